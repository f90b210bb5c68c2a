import { InputError, type Problem } from '../core/errors.ts';
import { parseJsonWithPositions, toPlainValue, type JsonNode } from './json-source.ts';

/**
 * One SKU of the Google Cloud Billing Catalog API (`services.skus.list`), reduced to the fields that ptk reads.
 * Response format: https://cloud.google.com/billing/v1/how-tos/catalog-api
 */
export interface BillingSku {
  skuId: string;
  description: string;
  category: { resourceFamily: string; resourceGroup: string; usageType: string };
  serviceRegions: string[];
  pricingInfo: Array<{
    effectiveTime?: string;
    pricingExpression: {
      usageUnit: string;
      tieredRates: Array<{ startUsageAmount: number; unitPrice: { currencyCode: string; units: string; nanos: number } }>;
    };
  }>;
}

/** Hourly prices of one machine family's vCPU and memory in one region, with the SKUs they came from. */
export interface FamilyPrices {
  family: string;
  region: string;
  usageType: string;
  corePerHour: number;
  ramPerGiBHour: number;
  coreSkuId: string;
  ramSkuId: string;
}

/**
 * Parses a `services.skus.list` response (`{"skus": [...]}`) and checks the fields that ptk reads.
 * @throws InputError listing every SKU whose shape is wrong, at its line and column.
 */
export function parseSkuJson(text: string, file: string): BillingSku[] {
  const root = parseJsonWithPositions(text, file);
  const problems: Problem[] = [];
  const skusEntry = root.kind === 'object' ? root.entries.find((entry) => entry.key === 'skus') : undefined;

  if (!skusEntry || skusEntry.value.kind !== 'array') {
    throw new InputError([
      {
        location: { file, ...(skusEntry?.value.at ?? root.at) },
        message: 'missing skus array — a Cloud Billing Catalog SKU list is an object {"skus": [...]}, as services.skus.list returns it; give that response',
      },
    ]);
  }

  const skus: BillingSku[] = [];
  skusEntry.value.items.forEach((node, index) => {
    const problem = checkSkuShape(node);
    if (problem) {
      problems.push({ location: { file, ...node.at }, message: `invalid skus[${index}]: ${problem} — each SKU needs skuId, description, category.usageType, serviceRegions and pricingInfo[].pricingExpression.tieredRates; give SKUs as the API returns them` });
      return;
    }
    skus.push(toPlainValue(node) as BillingSku);
  });
  if (problems.length > 0) throw new InputError(problems);
  return skus;
}

/** Returns what is wrong with the shape of one SKU, or undefined when it has every field that ptk reads. */
function checkSkuShape(node: JsonNode): string | undefined {
  if (node.kind !== 'object') return `a JSON ${node.kind}, not an object`;
  const sku = toPlainValue(node) as Record<string, unknown>;
  if (typeof sku.skuId !== 'string') return 'missing skuId';
  if (typeof sku.description !== 'string') return 'missing description';
  const category = sku.category as Record<string, unknown> | undefined;
  if (typeof category?.usageType !== 'string') return 'missing category.usageType';
  if (!Array.isArray(sku.serviceRegions)) return 'missing serviceRegions';
  const pricingInfo = sku.pricingInfo;
  if (!Array.isArray(pricingInfo) || pricingInfo.length === 0) return 'missing pricingInfo';
  const expression = (pricingInfo[0] as Record<string, unknown>).pricingExpression as Record<string, unknown> | undefined;
  if (typeof expression?.usageUnit !== 'string' || !Array.isArray(expression.tieredRates)) return 'missing pricingInfo[0].pricingExpression';
  return undefined;
}

/**
 * Finds the per-vCPU and per-GiB hourly prices of a machine family (`a2`, `n1`, `n2d`, ...) in a region.
 * It reads the "<FAMILY> [AMD|Intel|Arm] [Predefined] Instance Core|Ram running in ..." SKUs of the usage
 * type (`OnDemand`, or `Preemptible` for spot VMs), so sole-tenancy, custom and commitment SKUs never match.
 * @throws InputError when the list has no SKU, or more than one, for the family's core or memory.
 */
export function findFamilyPrices(skus: BillingSku[], family: string, region: string, usageType = 'OnDemand'): FamilyPrices {
  const core = findOneSku(skus, family, 'Core', region, usageType);
  const ram = findOneSku(skus, family, 'Ram', region, usageType);
  return {
    family,
    region,
    usageType,
    corePerHour: hourlyPrice(core, 'h'),
    ramPerGiBHour: hourlyPrice(ram, 'GiBy.h'),
    coreSkuId: core.skuId,
    ramSkuId: ram.skuId,
  };
}

/** Prices a machine type from its family's SKU prices: vCPUs × core price + GiB × memory price, in USD per hour. */
export function priceMachineType(shape: { vcpus: number; memoryGiB: number }, prices: FamilyPrices): number {
  return roundToNanos(shape.vcpus * prices.corePerHour + shape.memoryGiB * prices.ramPerGiBHour);
}

/**
 * Finds the hourly price of one GPU in a region, by GKE accelerator name. The SKU description
 * "Nvidia Tesla A100 GPU running in Americas" gives the name nvidia-tesla-a100: the words before " GPU",
 * in lowercase, joined with hyphens.
 * @throws InputError when the list has no SKU, or more than one, for that GPU.
 */
export function findAcceleratorPrice(skus: BillingSku[], acceleratorName: string, region: string, usageType = 'OnDemand'): { perHour: number; skuId: string } {
  const matches = skus.filter((sku) => {
    const match = /^(?:Spot )?(?:Preemptible )?(Nvidia .+?) GPU(?: attached to .+?)? running in /i.exec(sku.description);
    const name = match?.[1]!.toLowerCase().replaceAll(' ', '-');
    return name === acceleratorName && sku.category.usageType === usageType && sku.serviceRegions.includes(region);
  });
  const sku = exactlyOne(matches, skus, `${acceleratorName} GPU`, region, usageType);
  return { perHour: hourlyPrice(sku, 'h'), skuId: sku.skuId };
}

function findOneSku(skus: BillingSku[], family: string, resource: 'Core' | 'Ram', region: string, usageType: string): BillingSku {
  const pattern = new RegExp(`^(?:Spot )?(?:Preemptible )?${escapeRegExp(family)}(?: AMD| Intel| Arm)?(?: Predefined)? Instance ${resource} running in `, 'i');
  const matches = skus.filter((sku) => pattern.test(sku.description) && sku.category.usageType === usageType && sku.serviceRegions.includes(region));
  return exactlyOne(matches, skus, `${family.toUpperCase()} ${resource === 'Core' ? 'vCPU' : 'memory'}`, region, usageType);
}

function exactlyOne(matches: BillingSku[], skus: BillingSku[], resourceName: string, region: string, usageType: string): BillingSku {
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new InputError(`several SKUs for ${resourceName} in ${region}, ${usageType} (${matches.map((sku) => sku.skuId).join(', ')}) — ptk expects one price per resource and region; remove the extra SKUs`);
  }
  const regions = [...new Set(skus.flatMap((sku) => sku.serviceRegions))].sort();
  throw new InputError(`no SKU for ${resourceName} in ${region}, ${usageType} — the SKU list covers the regions ${regions.join(', ')}, but has no such SKU for this one; fetch the SKUs of that region and family, or choose another`);
}

/**
 * Reads the unit price of a SKU, which must be a single USD tier in the expected unit. It takes the last
 * pricingInfo entry: a request without a time range returns only the latest pricing (ListSkusRequest).
 */
function hourlyPrice(sku: BillingSku, unit: 'h' | 'GiBy.h'): number {
  const expression = sku.pricingInfo[sku.pricingInfo.length - 1]!.pricingExpression;
  if (expression.usageUnit !== unit) {
    throw new InputError(`unexpected usage unit of SKU ${sku.skuId} (${expression.usageUnit}) — "${sku.description}" should be priced per ${unit}; check that the SKU is the one meant`);
  }
  if (expression.tieredRates.length !== 1) {
    throw new InputError(`tiered pricing in SKU ${sku.skuId} (${expression.tieredRates.length} tiers) — ptk reads SKUs with one flat hourly price; price this resource by hand`);
  }
  const price = expression.tieredRates[0]!.unitPrice;
  if (price.currencyCode !== 'USD') {
    throw new InputError(`SKU ${sku.skuId} is priced in ${price.currencyCode} — ptk compares prices in USD only; fetch the SKUs with currencyCode=USD`);
  }
  return roundToNanos(Number(price.units) + price.nanos / 1e9);
}

/** Rounds to the nano-dollar that Money amounts carry, which removes binary floating-point noise. */
function roundToNanos(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
