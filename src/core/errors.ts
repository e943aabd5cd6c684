// DomainError moved to src/errors.ts (below every layer). This re-export keeps
// the runtime's imports working until it imports src/errors.ts itself; remove
// it then (issue 19).
export { DomainError } from '../errors.js';
