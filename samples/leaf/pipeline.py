"""Tomato-leaf classification pipeline, shaped like the one measured by Nagiyev, Bajrovic and Benkner in
"Python to Kubernetes" (2024): download, prepare, preprocess, train (on a GPU) and evaluate.

The bodies are small stand-ins that run in well under a second on synthetic "images", so the sample can be
run and tested anywhere. ptk plans this pipeline from the timings the paper measured, which live in
ptk.profile.json beside this file; README.md shows how each figure was derived.

Run it as plain Python with the ptk runtime on the path:  PYTHONPATH=../../runtime python3 pipeline.py
"""

import random

from ptk import task

CLASSES = [
    "bacterial_spot", "early_blight", "late_blight", "leaf_mold", "septoria_leaf_spot",
    "spider_mites", "target_spot", "yellow_leaf_curl_virus", "mosaic_virus", "healthy",
]
IMAGE_SIZE = 8
DATASET_SIZE = "20Gi"


@task(name="download", output={"type": "PVC", "size": DATASET_SIZE},
      cpu_requests=0.1, memory_requests="256Mi")
def download_data():
    generator = random.Random(7)
    download_result = []
    for index in range(400):
        label = index % len(CLASSES)
        pixels = [generator.gauss(label * 10.0, 40.0) for _ in range(IMAGE_SIZE * IMAGE_SIZE)]
        download_result.append((pixels, label))
    return download_result


@task(name="prepare", input={"download"}, output={"type": "PVC", "size": DATASET_SIZE},
      cpu_requests=0.2, memory_requests="512Mi")
def prepare_data(download_result):
    generator = random.Random(11)
    shuffled = list(download_result)
    generator.shuffle(shuffled)
    cut = len(shuffled) * 4 // 5
    prepare_results = {"train": shuffled[:cut], "test": shuffled[cut:]}
    return prepare_results


@task(name="preprocess", input={"prepare"}, output={"type": "PVC", "size": "10Gi"},
      cpu_requests=0.2, memory_requests="512Mi")
def preprocess_data(prepare_results):
    def normalize(pixels):
        return [min(max(value, 0.0), 255.0) / 255.0 for value in pixels]

    preprocess_results = {
        split: [(normalize(pixels), label) for pixels, label in rows]
        for split, rows in prepare_results.items()
    }
    return preprocess_results


@task(name="train", input={"preprocess"}, output={"type": "PVC", "size": "1Gi"},
      cpu_requests=0.2, memory_requests="1Gi", gpu_requests=1, gpu_limits=1)
def train_data(preprocess_results):
    # A nearest-centroid classifier: one mean image per class.
    sums = {label: [0.0] * (IMAGE_SIZE * IMAGE_SIZE) for label in range(len(CLASSES))}
    counts = {label: 0 for label in range(len(CLASSES))}
    for pixels, label in preprocess_results["train"]:
        counts[label] += 1
        sums[label] = [total + value for total, value in zip(sums[label], pixels)]
    centroids = {label: [total / max(counts[label], 1) for total in sums[label]] for label in sums}
    train_results = {"model": centroids, "test": preprocess_results["test"]}
    return train_results


@task(name="evaluate", input={"train"}, cpu_requests=0.2, memory_requests="384Mi")
def eval_data(train_results):
    centroids = train_results["model"]

    def predict(pixels):
        return min(centroids, key=lambda label: sum((a - b) ** 2 for a, b in zip(pixels, centroids[label])))

    test = train_results["test"]
    correct = sum(1 for pixels, label in test if predict(pixels) == label)
    eval_results = {"accuracy": correct / len(test), "samples": len(test)}
    return eval_results


def main():
    download_r = download_data()
    prepare_r = prepare_data(download_r)
    preprocess_r = preprocess_data(prepare_r)
    train_r = train_data(preprocess_r)
    eval_r = eval_data(train_r)
    print(f"accuracy {eval_r['accuracy']:.3f} on {eval_r['samples']} test images")


if __name__ == "__main__":
    main()
