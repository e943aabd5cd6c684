// The netlink module without the kernel: byte layouts checked against what
// the uapi headers prescribe and what iproute2 sends (captured with strace),
// and the parsing of replies, errors and CIDRs.
import t from 'tap';
import {
  attrMap,
  attrString,
  describeMessage,
  encodeAttrs,
  encodeMessage,
  ifinfomsg,
  nestedAttr,
  parseAttrs,
  parseMessages,
  readError,
  stringAttr,
  u32Attr,
} from '../../src/netlink/message.js';
import {
  IFLA,
  IFLA_INFO,
  NLM_F,
  NLM_F_NEW,
  NLMSG_ERROR,
  NLMSG_DONE,
  RTM,
  VETH_INFO_PEER,
} from '../../src/netlink/constants.js';
import { formatAddress, networkOf, parseCidr } from '../../src/netlink/address.js';
import { ROOT } from '../helpers/tools.js';

t.test('rtattr: length without padding, payload padded to 4 bytes', async (t) => {
  const b = encodeAttrs([stringAttr(IFLA.IFLA_IFNAME, 'v0'), u32Attr(IFLA.IFLA_MTU, 1500)]);
  t.equal(b.length, 8 + 8, 'two attributes of 8 bytes each');
  t.equal(b.readUInt16LE(0), 7, 'rta_len of "v0\\0" is 4 + 3');
  t.equal(b.readUInt16LE(2), IFLA.IFLA_IFNAME);
  t.equal(b.subarray(4, 8).toString('latin1'), 'v0\0\0', 'NUL, then one byte of padding');
  t.equal(b.readUInt16LE(8), 8);
  t.equal(b.readUInt32LE(12), 1500);
  t.same(
    parseAttrs(b).map((a) => a.type),
    [IFLA.IFLA_IFNAME, IFLA.IFLA_MTU],
    'parsed back',
  );
});

t.test('a veth request has the bytes iproute2 sends', async (t) => {
  const req = {
    type: RTM.RTM_NEWLINK,
    flags: NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | NLM_F_NEW.NLM_F_CREATE | NLM_F_NEW.NLM_F_EXCL,
    header: ifinfomsg(),
    attrs: [
      stringAttr(IFLA.IFLA_IFNAME, 'v0'),
      nestedAttr(IFLA.IFLA_LINKINFO, [
        stringAttr(IFLA_INFO.IFLA_INFO_KIND, 'veth'),
        nestedAttr(IFLA_INFO.IFLA_INFO_DATA, [
          nestedAttr(VETH_INFO_PEER, [stringAttr(IFLA.IFLA_IFNAME, 'v1')], ifinfomsg()),
        ]),
      ]),
    ],
  };
  const msg = encodeMessage(req, 1795919299);
  // strace of `ip link add v0 type veth peer name v1`: nlmsg_len=84, IFLA_LINKINFO nla_len=44,
  // IFLA_INFO_DATA nla_len=32 holding "\x1c\x00\x01\x00" + 16 zero bytes + "\x07\x00\x03\x00v1\x00\x00".
  // iproute2 sends IFLA_INFO_KIND "veth" without its NUL (nla_len 8); we send the NUL
  // (nla_len 9, padded to 12), which the kernel's NLA_STRING policy accepts as well: 4 bytes more.
  t.equal(msg.length, 84 + 4, 'nlmsg_len: 84 + the NUL of "veth" and its padding');
  t.equal(msg.readUInt32LE(0), msg.length);
  t.equal(msg.readUInt16LE(4), RTM.RTM_NEWLINK);
  t.equal(msg.readUInt16LE(6), 0x605, 'NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE');
  t.equal(msg.readUInt32LE(8), 1795919299, 'sequence number');
  const ifname = msg.subarray(16 + 16, 16 + 16 + 8);
  t.same([...ifname], [7, 0, 3, 0, 0x76, 0x30, 0, 0], 'IFLA_IFNAME "v0" as iproute2 sends it');
  const linkinfo = msg.subarray(16 + 16 + 8);
  t.equal(linkinfo.readUInt16LE(0), 44 + 4, 'IFLA_LINKINFO nla_len');
  t.equal(linkinfo.readUInt16LE(4), 9, 'IFLA_INFO_KIND nla_len: 4 + "veth" + NUL');
  const attrs = attrMap(msg.subarray(16 + 16));
  const data = attrMap(attrs.get(IFLA.IFLA_LINKINFO)!).get(IFLA_INFO.IFLA_INFO_DATA)!;
  const expected = Buffer.concat([
    Buffer.from([0x1c, 0, 1, 0]),
    Buffer.alloc(16),
    Buffer.from([7, 0, 3, 0]),
    Buffer.from('v1\0\0', 'latin1'),
  ]);
  t.same([...data], [...expected], 'IFLA_INFO_DATA: VETH_INFO_PEER { ifinfomsg, IFLA_IFNAME "v1" }');
  const shown = describeMessage(parseMessages(msg)[0]!);
  t.match(
    shown,
    'type=RTM_NEWLINK, flags=NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE',
    'trace: type and flags by name',
  );
  t.match(shown, 'IFLA_INFO_DATA=[VETH_INFO_PEER={ifi_family=AF_UNSPEC', 'trace: the peer decoded');
});

function message(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const len = 16 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  payload.copy(b, 16);
  return b;
}

t.test('several messages in one datagram, each aligned', async (t) => {
  const first = message(
    RTM.RTM_NEWLINK,
    NLM_F.NLM_F_MULTI,
    5,
    Buffer.concat([ifinfomsg({ index: 1 }), encodeAttrs([stringAttr(IFLA.IFLA_IFNAME, 'lo')])]),
  );
  const done = message(NLMSG_DONE, NLM_F.NLM_F_MULTI, 5, Buffer.alloc(4));
  const msgs = parseMessages(Buffer.concat([first, done]));
  t.same(
    msgs.map((m) => m.type),
    [RTM.RTM_NEWLINK, NLMSG_DONE],
  );
  t.equal(attrString(attrMap(msgs[0]!.payload.subarray(16)).get(IFLA.IFLA_IFNAME)), 'lo');
  t.same(
    parseMessages(Buffer.concat([first, done]).subarray(0, first.length + 8)).length,
    1,
    'a cut-off message is not read',
  );
});

t.test("NLMSG_ERROR: errno, the request's sequence number, the extended-ack text", async (t) => {
  // struct nlmsgerr { int error; struct nlmsghdr msg; } then (capped ack) the TLVs.
  const echoed = Buffer.alloc(16);
  echoed.writeUInt32LE(40, 0);
  echoed.writeUInt32LE(77, 8);
  const tlv = encodeAttrs([stringAttr(1 /* NLMSGERR_ATTR_MSG */, 'Invalid prefix')]);
  const error = Buffer.alloc(4);
  error.writeInt32LE(-22);
  const m = parseMessages(message(NLMSG_ERROR, 0x100 | 0x200, 77, Buffer.concat([error, echoed, tlv])))[0]!;
  t.same(readError(m), { errno: 22, seq: 77, message: 'Invalid prefix' });
  t.match(describeMessage(m), '{error=-EINVAL, msg="Invalid prefix"}');
  const ack = parseMessages(message(NLMSG_ERROR, 0x100, 78, Buffer.concat([Buffer.alloc(4), echoed])))[0]!;
  t.equal(readError(ack).errno, 0, 'error 0 is an ack');
  t.match(describeMessage(ack), '{ack}');
});

t.test('CIDRs as iproute2 reads them', async (t) => {
  const c = parseCidr('172.2.0.1/24')!;
  t.same([c.family, c.prefixlen, [...c.bytes]], [2, 24, [172, 2, 0, 1]], 'IPv4, network byte order');
  t.equal(formatAddress(networkOf(c)), '172.2.0.0', 'the network part');
  t.equal(parseCidr('10.0.0.1')!.prefixlen, 32, 'no prefix: a host address');
  const six = parseCidr('fd00::1/64')!;
  t.same([six.family, six.prefixlen, six.bytes.length], [10, 64, 16], 'IPv6');
  t.equal(formatAddress(six.bytes), 'fd00::1', 'printed back by inet_ntop');
  for (const bad of ['172.2.0.300/24', '172.2.0.1/33', 'fd00::1/129', 'banana', '10.0.0.1/', '1.2.3/8', ''])
    t.equal(parseCidr(bad), undefined, `invalid: '${bad}'`);
});

t.test('the network library layers leave the command line to the tool', async (t) => {
  // src/netlink and the network parts of src/core throw SyscallError or
  // domain errors with data; no flag, no "Try", no exit, no CLI error class.
  const { readdirSync, readFileSync } = await import('node:fs');
  const files = [
    ...readdirSync(`${ROOT}/src/netlink`).map((f) => `src/netlink/${f}`),
    'src/core/netns.ts',
    'src/core/veth.ts',
    'src/syscalls/socket.ts',
  ];
  for (const file of files) {
    const code = readFileSync(`${ROOT}/${file}`, 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
      .join('\n');
    t.notMatch(code, /process\.exit|['"`][^'"`\n]*--[a-z][^'"`\n]*['"`]|Try '/, `${file}: no flag, Try line or exit`);
    t.notMatch(code, /\b(UsageError|ToolError)\b|from '\.\.\/cli\//, `${file}: no command-line error or import`);
  }
});
