import gcpUsWest1 from './catalogs/gcp-us-west1.json' with { type: 'json' };
import type { Catalog } from './types.ts';

/** The catalog that commands use when none is given. */
export const defaultCatalogName = 'gcp-us-west1';

/**
 * Catalogs that ship inside ptk, imported as JSON so that the bundle carries them. Each file is written by
 * its script in pricing/scripts, which validates it with `parseCatalogJson`, and a test checks it again.
 */
export const embeddedCatalogs: readonly Catalog[] = [withoutVersion(gcpUsWest1)];

function withoutVersion(file: { version: number }): Catalog {
  const { version: _version, ...catalog } = file;
  return catalog as Catalog;
}
