import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { findAcceleratorPrice, findFamilyPrices, parseSkuJson, priceMachineType } from '../../pricing/skus.ts';
import { inputErrorMessage } from '../support/errors.ts';

// Stored Compute Engine SKU records. fixtures/gcp-billing-skus-compute.source.md records where they came from.
const skuText = readFileSync(fileURLToPath(new URL('fixtures/gcp-billing-skus-compute.json', import.meta.url)), 'utf8');
const skus = parseSkuJson(skuText, 'gcp-billing-skus-compute.json');

test('parseSkuJson reads every SKU', () => {
  assert.is(skus.length, 21);
  assert.is(skus[5]!.skuId, '2922-40C5-B19F');
  assert.is(skus[5]!.description, 'A2 Instance Core running in Americas');
});

test('A2 prices in us-west1', () => {
  assert.equal(findFamilyPrices(skus, 'a2', 'us-west1'), {
    family: 'a2',
    region: 'us-west1',
    usageType: 'OnDemand',
    corePerHour: 0.031611,
    ramPerGiBHour: 0.004237,
    coreSkuId: '2922-40C5-B19F',
    ramSkuId: '2390-DCAF-DA38',
  });
});

test('a2-highgpu-1g CPU and memory price', () => {
  const prices = findFamilyPrices(skus, 'a2', 'us-west1');
  // 12 × 0.031611 + 85 × 0.004237; SkyPilot's catalog prints the same amount rounded as 0.73948.
  const price = priceMachineType({ vcpus: 12, memoryGiB: 85 }, prices);
  assert.is(price, 0.739477);
  assert.is(Number(price.toFixed(5)), 0.73948);
});

test('N2D family with AMD in its SKU names', () => {
  const prices = findFamilyPrices(skus, 'n2d', 'us-central1');
  assert.is(prices.corePerHour, 0.027502);
  assert.is(prices.ramPerGiBHour, 0.003686);
  assert.is(priceMachineType({ vcpus: 2, memoryGiB: 8 }, prices), 0.084492);
});

test('A100 GPU price', () => {
  assert.equal(findAcceleratorPrice(skus, 'nvidia-tesla-a100', 'us-west1'), { perHour: 2.933908, skuId: '039F-D0DA-4055' });
});

test('preemptible N1 without memory SKU', () => {
  assert.is(
    inputErrorMessage(() => findFamilyPrices(skus, 'n1', 'us-east4', 'Preemptible')),
    'no SKU for N1 memory in us-east4, Preemptible — the SKU list covers the regions asia-east1, asia-southeast1, europe-west1, europe-west3, europe-west6, northamerica-northeast1, us-central1, us-central2, us-east1, us-east4, us-west1, but has no such SKU for this one; fetch the SKUs of that region and family, or choose another',
  );
});

test('missing family or region', () => {
  assert.is(
    inputErrorMessage(() => findFamilyPrices(skus, 'a2', 'europe-west3')),
    'no SKU for A2 vCPU in europe-west3, OnDemand — the SKU list covers the regions asia-east1, asia-southeast1, europe-west1, europe-west3, europe-west6, northamerica-northeast1, us-central1, us-central2, us-east1, us-east4, us-west1, but has no such SKU for this one; fetch the SKUs of that region and family, or choose another',
  );
  assert.is(
    inputErrorMessage(() => findAcceleratorPrice(skus, 'nvidia-tesla-t4', 'us-west1')),
    'no SKU for nvidia-tesla-t4 GPU in us-west1, OnDemand — the SKU list covers the regions asia-east1, asia-southeast1, europe-west1, europe-west3, europe-west6, northamerica-northeast1, us-central1, us-central2, us-east1, us-east4, us-west1, but has no such SKU for this one; fetch the SKUs of that region and family, or choose another',
  );
});

test('sole tenancy SKUs never match a family', () => {
  // "M3 Memory-optimized Sole Tenancy Instance Core" is a sole-tenancy price, not the M3 machine price.
  assert.is(
    inputErrorMessage(() => findFamilyPrices(skus, 'm3', 'europe-west3')),
    'no SKU for M3 vCPU in europe-west3, OnDemand — the SKU list covers the regions asia-east1, asia-southeast1, europe-west1, europe-west3, europe-west6, northamerica-northeast1, us-central1, us-central2, us-east1, us-east4, us-west1, but has no such SKU for this one; fetch the SKUs of that region and family, or choose another',
  );
});

test('duplicate SKUs', () => {
  const doubled = [...skus, { ...skus[5]!, skuId: 'AAAA-BBBB-CCCC' }];
  assert.is(
    inputErrorMessage(() => findFamilyPrices(doubled, 'a2', 'us-west1')),
    'several SKUs for A2 vCPU in us-west1, OnDemand (2922-40C5-B19F, AAAA-BBBB-CCCC) — ptk expects one price per resource and region; remove the extra SKUs',
  );
});

test('tiered SKU is rejected', () => {
  const tiered = structuredClone(skus[5]!);
  const rates = tiered.pricingInfo[0]!.pricingExpression.tieredRates;
  rates.push({ startUsageAmount: 100, unitPrice: { currencyCode: 'USD', units: '0', nanos: 1 } });
  assert.is(
    inputErrorMessage(() => findFamilyPrices([tiered, skus[6]!], 'a2', 'us-west1')),
    'tiered pricing in SKU 2922-40C5-B19F (2 tiers) — ptk reads SKUs with one flat hourly price; price this resource by hand',
  );
});

test('parseSkuJson shape errors', () => {
  assert.is(
    inputErrorMessage(() => parseSkuJson('{"services": []}', 'wrong.json')),
    'wrong.json:1:1: missing skus array — a Cloud Billing Catalog SKU list is an object {"skus": [...]}, as services.skus.list returns it; give that response',
  );
  assert.is(
    inputErrorMessage(() => parseSkuJson('{"skus": [\n  {"skuId": "X", "description": "d"},\n  3\n]}', 'partial.json')),
    [
      'partial.json:2:3: invalid skus[0]: missing category.usageType — each SKU needs skuId, description, category.usageType, serviceRegions and pricingInfo[].pricingExpression.tieredRates; give SKUs as the API returns them',
      'partial.json:3:3: invalid skus[1]: a JSON number, not an object — each SKU needs skuId, description, category.usageType, serviceRegions and pricingInfo[].pricingExpression.tieredRates; give SKUs as the API returns them',
    ].join('\n'),
  );
});

test.run();
