import type { AdminApi } from './api.ts';

/**
 * Saves what a relay route answers as a file. The route needs the admin's bearer token, so a
 * plain link cannot fetch it: the file is read here and handed to the browser as a download.
 */
export async function saveDownload(api: AdminApi, path: string): Promise<string> {
  const { blob, filename } = await api.download(path);
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The browser has taken the file once click() returns; the next turn frees the copy.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
  return filename;
}
