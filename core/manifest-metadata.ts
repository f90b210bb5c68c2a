import type { IConfigMap } from 'kubernetes-models/v1';

/** Kubernetes' ObjectMeta, which kubernetes-models exports only from a package ptk does not depend on. */
export type ObjectMeta = NonNullable<IConfigMap['metadata']>;

/** Prefix of ptk's own annotation and label keys. */
export const annotationPrefix = 'ptk.dev';

/** Label with the run id, so that one run's objects and pods can be selected apart from other runs'. */
export const runIdLabel = `${annotationPrefix}/run-id`;

/** The values that every generated object's labels and names derive from. */
export interface MetadataContext {
  /** DNS-1123 label made from the pipeline's file name; it starts every object name. */
  prefix: string;
  namespace: string;
  /** Id of the run that the objects belong to, a valid label value. */
  runId: string;
}

/**
 * Builds an object's metadata with Kubernetes' recommended labels and the run id. `name` is what the object
 * is: a pod of the plan, `code`, or the producer whose output a claim stores. `instance` is the object's own
 * name, which is unique among ptk's objects in the namespace. `component` is its role (`workload`, `code` or
 * `channel`), `part-of` is the pipeline, and `managed-by` is ptk. Every value must already be a valid label
 * value.
 */
export function objectMetadata(
  context: MetadataContext,
  object: { name: string; appName: string; component: 'workload' | 'code' | 'channel'; annotations?: Record<string, string> },
): ObjectMeta {
  const metadata: ObjectMeta = {
    name: object.name,
    namespace: context.namespace,
    labels: recommendedLabels(context, object),
  };
  if (object.annotations && Object.keys(object.annotations).length > 0) metadata.annotations = object.annotations;
  return metadata;
}

/** Returns the recommended `app.kubernetes.io/*` labels of an object and its run id label, as `objectMetadata` describes them. */
export function recommendedLabels(
  context: MetadataContext,
  object: { name: string; appName: string; component: string },
): Record<string, string> {
  return {
    'app.kubernetes.io/name': object.appName,
    'app.kubernetes.io/instance': object.name,
    'app.kubernetes.io/component': object.component,
    'app.kubernetes.io/part-of': context.prefix,
    'app.kubernetes.io/managed-by': 'ptk',
    [runIdLabel]: context.runId,
  };
}
