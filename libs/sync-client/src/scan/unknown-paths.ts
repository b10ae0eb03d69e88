/**
 * Paths whose local state a scan could not learn (a folder it could not read, a symlink it does
 * not follow, a name it cannot decode, a file that vanished while it looked): each covers itself
 * and everything below it. Nothing under an unknown path may be reported as deleted, downloaded
 * into, deleted locally or turned into a conflict in that pass: absent from the scan is not the
 * same as absent from the disk.
 */
export class UnknownPaths {
  private readonly paths = new Set<string>();

  /** `path` is folder-relative with '/'; the root itself is never unknown (the pass stops instead). */
  add(path: string): void {
    if (path !== '') this.paths.add(path);
  }

  /** True when `path` or a folder above it is unknown. */
  covers(path: string): boolean {
    if (this.paths.size === 0) return false;
    for (let end = path.indexOf('/'); end !== -1; end = path.indexOf('/', end + 1)) {
      if (this.paths.has(path.slice(0, end))) return true;
    }
    return this.paths.has(path);
  }

  /** The unknown paths, sorted. */
  list(): string[] {
    return [...this.paths].sort();
  }

  get size(): number {
    return this.paths.size;
  }
}
