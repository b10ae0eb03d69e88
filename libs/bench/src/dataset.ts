import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface DatasetFile {
  readonly path: string;
  readonly size: number;
}

/**
 * The acceptance folder of issue 2: about 100 files in nested folders, non-ASCII names, an
 * empty file and one 50 MiB file, with random (incompressible) content. Sizes are fixed so
 * runs compare; content is random so no run profits from another's blocks.
 */
export function acceptanceDataset(): DatasetFile[] {
  const files: DatasetFile[] = [
    { path: 'big/video-50MiB.bin', size: 50 * 1024 * 1024 },
    { path: 'empty.txt', size: 0 },
    { path: 'überall/naïve café.txt', size: 4_321 },
    { path: '日本語/ファイル.md', size: 12_000 },
    { path: 'emoji/🚀 launch.json', size: 900 },
  ];
  const sizes = [100, 1_000, 4_096, 20_000, 65_536, 150_000, 400_000, 1_200_000];
  for (let i = 0; files.length < 100; i++) {
    const folder = ['docs', 'docs/reports', 'src/app', 'src/lib/deep/er', 'photos/2026'][i % 5];
    files.push({ path: `${folder}/file-${String(i).padStart(3, '0')}.dat`, size: sizes[i % sizes.length]! });
  }
  return files;
}

export async function writeDataset(root: string, files: readonly DatasetFile[]): Promise<number> {
  let total = 0;
  for (const file of files) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, randomBytes(file.size));
    total += file.size;
  }
  return total;
}
