"""Handwritten digits classification in five tasks: download, prepare, preprocess, train, evaluate.

The data set is the 1,797 8 × 8 images of handwritten digits (ten classes) that scikit-learn ships, so
nothing is fetched from the network. Run it as plain Python:

    PYTHONPATH=../../runtime python3 pipeline.py

or with ptk: ``ptk profile pipeline.py``, ``ptk plan pipeline.py``, ``ptk apply --local``.
Needs scikit-learn (Debian: ``apt-get install python3-sklearn``).
"""

from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ptk import task

SEED = 20240520
TEST_FRACTION = 0.25


@task(name="download", output={"type": "PVC", "size": "64Mi"}, cpu_requests=0.25, memory_requests="512Mi")
def download_data():
    digits = load_digits()
    download_result = {"images": digits.data, "labels": digits.target, "classes": list(digits.target_names)}
    return download_result


@task(name="prepare", input={"download"}, cpu_requests=0.25, memory_requests="512Mi")
def prepare_data(download_result):
    train_x, test_x, train_y, test_y = train_test_split(
        download_result["images"], download_result["labels"],
        test_size=TEST_FRACTION, random_state=SEED, stratify=download_result["labels"],
    )
    prepare_results = {"train": (train_x, train_y), "test": (test_x, test_y), "classes": download_result["classes"]}
    return prepare_results


@task(name="preprocess", input={"prepare"}, cpu_requests=0.25, memory_requests="512Mi")
def preprocess_data(prepare_results):
    train_x, train_y = prepare_results["train"]
    test_x, test_y = prepare_results["test"]
    scaler = StandardScaler().fit(train_x)
    preprocess_results = {
        "train": (scaler.transform(train_x), train_y),
        "test": (scaler.transform(test_x), test_y),
        "classes": prepare_results["classes"],
    }
    return preprocess_results


@task(name="train", input={"preprocess"}, cpu_requests=1, memory_requests="1Gi")
def train_data(preprocess_results):
    train_x, train_y = preprocess_results["train"]
    model = MLPClassifier(hidden_layer_sizes=(256, 128), alpha=1e-3, max_iter=300, random_state=SEED)
    model.fit(train_x, train_y)
    train_results = {"model": model, "test": preprocess_results["test"], "classes": preprocess_results["classes"]}
    return train_results


@task(name="evaluate", input={"train"}, cpu_requests=0.25, memory_requests="512Mi")
def eval_data(train_results):
    test_x, test_y = train_results["test"]
    predicted = train_results["model"].predict(test_x)
    eval_results = {
        "accuracy": round(float(accuracy_score(test_y, predicted)), 4),
        "test_images": int(len(test_y)),
        "confusion_matrix": confusion_matrix(test_y, predicted).tolist(),
    }
    return eval_results


def main():
    download_r = download_data()
    prepare_r = prepare_data(download_r)
    preprocess_r = preprocess_data(prepare_r)
    train_r = train_data(preprocess_r)
    eval_r = eval_data(train_r)
    print(f"accuracy {eval_r['accuracy']:.4f} on {eval_r['test_images']} test images")
    for row in eval_r["confusion_matrix"]:
        print(" ".join(f"{count:3d}" for count in row))


if __name__ == "__main__":
    main()
