// Files imported `with { type: 'file' }` resolve to a path (inside the binary: /$bunfs/...).
declare module '*.js' {
  const path: string;
  export default path;
}
declare module '*.css' {
  const path: string;
  export default path;
}
