// How uploaded files name their products: the file name (without folders and extension) is the
// product's externalId, whole or up to the first underscore, so SKU-1_front.jpg and
// SKU-1_back.jpg are two images of SKU-1.

export type ExternalIdRule = 'name' | 'prefix';

/** The API's externalId is free text; we keep ids a merchant can type and read. */
const MAX_EXTERNAL_ID = 200;

export function baseName(fileName: string): string {
  const name = fileName.split(/[\\/]/).pop() ?? fileName;
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name).trim();
}

/** The externalId a file names, or null when its name gives none. */
export function externalIdFromFileName(fileName: string, rule: ExternalIdRule): string | null {
  let id = baseName(fileName);
  if (rule === 'prefix') {
    const cut = id.indexOf('_');
    if (cut > 0) id = id.slice(0, cut);
  }
  id = id.trim();
  if (id === '' || id.length > MAX_EXTERNAL_ID) return null;
  return id;
}

/** A title for a product created from a file: "blue-denim_jacket" -> "Blue denim jacket". */
export function titleFromFileName(fileName: string): string {
  const words = baseName(fileName)
    .replace(/[_\-.]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return words ? `${words[0]?.toUpperCase() ?? ''}${words.slice(1)}` : 'Untitled product';
}
