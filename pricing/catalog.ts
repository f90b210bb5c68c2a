import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { InputError } from '../core/errors.ts';
import { catalogFormatVersion, parseCatalogJson } from './catalog-json.ts';
import { parseCatalogCsv } from './csv.ts';
import { localCatalog, localCatalogName } from './local.ts';
import { describeMachine } from '../core/machine.ts';
import { defaultCatalogName, embeddedCatalogs } from './embedded.ts';
import type { Catalog } from './types.ts';

export { catalogFormatVersion, parseCatalogJson };

/** The catalog JSON file: a Catalog plus the format version. */
export type CatalogFile = { version: typeof catalogFormatVersion } & Catalog;

/** Serializes a catalog as catalog JSON (version 1), the form `parseCatalogJson` reads back. */
export function stringifyCatalog(catalog: Catalog): string {
  const file: CatalogFile = {
    version: catalogFormatVersion,
    name: catalog.name,
    provider: catalog.provider,
    region: catalog.region,
    currency: catalog.currency,
    source: catalog.source,
    date: catalog.date,
    clusterFeePerHour: catalog.clusterFeePerHour,
    reservation: catalog.reservation,
    machines: catalog.machines.map((machine) => ({
      name: machine.name,
      vcpus: machine.vcpus,
      memoryGiB: machine.memoryGiB,
      onDemandPerHour: machine.onDemandPerHour,
      spotPerHour: machine.spotPerHour,
      cpuSpeed: machine.cpuSpeed,
      builtInAccelerator: machine.builtInAccelerator,
    })),
    accelerators: catalog.accelerators.map((accelerator) => ({
      name: accelerator.name,
      onDemandPerHour: accelerator.onDemandPerHour,
      spotPerHour: accelerator.spotPerHour,
      counts: accelerator.counts,
      attachTo: accelerator.attachTo,
    })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Loads a catalog: an embedded one by name, or a `.json` or `.csv` file by path (relative to `cwd`).
 * Without a name, returns the default embedded catalog.
 * @throws InputError when the name is neither embedded nor an existing file, or when the file is invalid.
 */
export async function loadCatalog(nameOrPath: string | undefined, cwd: string): Promise<Catalog> {
  const requested = nameOrPath ?? defaultCatalogName;
  if (requested === localCatalogName) return localCatalog(describeMachine(), new Date().toISOString().slice(0, 10));
  const embedded = embeddedCatalogs.find((catalog) => catalog.name === requested);
  if (embedded) return structuredClone(embedded);

  const filePath = path.resolve(cwd, requested);
  const extension = path.extname(filePath).toLowerCase();
  const fileStat = await stat(filePath).catch(() => undefined);
  const embeddedNames = [...embeddedCatalogs.map((catalog) => catalog.name), localCatalogName].join(', ');

  if (!fileStat) {
    const looksLikePath = /[/\\]/.test(requested) || extension === '.json' || extension === '.csv';
    if (looksLikePath) {
      throw new InputError(
        `catalog file not found (${requested}, resolved to ${filePath}) — a catalog is an embedded name or an existing .json or .csv file; check the path, or use an embedded catalog: ${embeddedNames}`,
      );
    }
    throw new InputError(
      `unknown catalog (${requested}) — it is neither an embedded catalog nor a file; use one of the embedded catalogs (${embeddedNames}) or the path of a .json or .csv file`,
    );
  }
  if (!fileStat.isFile()) {
    throw new InputError(`catalog path is not a file (${requested}) — a catalog is a .json or .csv file; give the file's path`);
  }
  if (extension !== '.json' && extension !== '.csv') {
    throw new InputError(
      `unsupported catalog file type (${requested}) — ptk reads catalog JSON (.json) and price CSV (.csv) files; convert the file or rename it to the extension that matches its content`,
    );
  }

  const text = await readFile(filePath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read catalog file (${requested}): ${error.code ?? error.message} — check the file's permissions`);
  });
  return extension === '.json' ? parseCatalogJson(text, requested) : parseCatalogCsv(text, requested);
}

