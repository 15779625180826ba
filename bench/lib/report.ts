import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release } from 'node:os';
import path from 'node:path';

/** One line that says where a benchmark ran: CPU, cores, memory, Node, date. */
export function machineLine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  const date = new Date().toISOString().slice(0, 10);
  return `${model}, ${cpu.length} cores, ${gib} GiB, ${osType()} ${release()}, Node ${process.version}, ${date}`;
}

/** Render rows as a GitHub-flavoured Markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const BENCHMARKS_MD = path.join(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md');

/**
 * Replace (or append) one benchmark's section in docs/benchmarks.md, between
 * `<!-- bench:<name> -->` markers, so each benchmark owns its part of the file.
 */
export async function writeSection(name: string, markdown: string): Promise<void> {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let doc: string;
  try {
    doc = await readFile(BENCHMARKS_MD, 'utf8');
  } catch {
    doc = '# Benchmarks\n\nFigures printed by the scripts under `bench/`, rewritten each run.\n';
  }
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i
      ? doc.slice(0, i) + block + doc.slice(j + end.length)
      : `${doc.trimEnd()}\n\n${block}\n`;
  await mkdir(path.dirname(BENCHMARKS_MD), { recursive: true });
  await writeFile(BENCHMARKS_MD, doc);
}
