// The package ships no types; it exports a factory of a through-stream (a Transform).
declare module 'unbzip2-stream' {
  import type { Transform } from 'node:stream';
  function unbzip2Stream(): Transform;
  export = unbzip2Stream;
}
