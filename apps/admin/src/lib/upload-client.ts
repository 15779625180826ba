// Browser side of uploads: XMLHttpRequest, because fetch reports no upload progress.

export interface UploadAnswer<T> {
  status: number;
  body: T | { error: string; code: string } | null;
}

export function postForm<T>(
  url: string,
  form: FormData,
  onProgress?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadAnswer<T>> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: UploadAnswer<T>['body'] = null;
      try {
        body = JSON.parse(xhr.responseText) as UploadAnswer<T>['body'];
      } catch {
        body = {
          error: `The dashboard answered ${xhr.status} without a message`,
          code: 'BAD_RESPONSE',
        };
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => {
      reject(new Error('The dashboard server is not reachable'));
    };
    xhr.onabort = () => {
      reject(new DOMException('Aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', () => {
      xhr.abort();
    });
    xhr.send(form);
  });
}

export function isErrorBody(body: unknown): body is { error: string; code: string } {
  return typeof body === 'object' && body !== null && 'error' in body;
}

/** Image files from a drop: files, and the files inside dropped folders (recursively). */
export async function filesFromDrop(data: DataTransfer): Promise<File[]> {
  const entries = [...data.items]
    .filter((i) => i.kind === 'file')
    .map((i) => i.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return [...data.files];
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      out.push(
        await new Promise<File>((res, rej) => {
          (entry as FileSystemFileEntry).file(res, rej);
        }),
      );
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns at most ~100 entries per call: read until it returns none.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => {
          reader.readEntries(res, rej);
        });
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return out;
}

/** Files whose name says they are not for the catalog (macOS and Windows folder litter). */
export function isJunkFile(file: File): boolean {
  return /^\.|^(thumbs\.db|desktop\.ini)$/i.test(file.name);
}
