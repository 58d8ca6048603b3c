/**
 * Recognises aiots's own frames in stack traces, so that reports show the user's code. Frames are
 * matched by file URL under the folder aiots runs from: `src/` under type stripping, `dist/` once
 * built, wherever the package is installed.
 */

/** The file URL of the folder holding aiots's layers (`.../src/` or `.../dist/`). */
export const packageRoot = new URL("../../", import.meta.url).href;

const escapedRoot = packageRoot.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A pattern matching stack frames in the given aiots files, named relative to the package root
 * without extension; a name may be a pattern itself (`"core/internal/[a-z-]+"`).
 */
export function framesIn(files: readonly string[]): RegExp {
  return new RegExp(`${escapedRoot}(?:${files.join("|")})\\.[jt]s:`);
}
