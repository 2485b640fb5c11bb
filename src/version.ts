/** The release version, replaced at build time by `--define CODEXIN_VERSION` when set. */
declare const CODEXIN_VERSION: string | undefined;
export const VERSION: string = typeof CODEXIN_VERSION === 'string' ? CODEXIN_VERSION : '0.1.0';
