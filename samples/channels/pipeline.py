"""A standard-library pipeline that moves data through every channel ptk has, and runs replicas.

    pod ingest:  generate ──IPC──▶ square ──Volume──▶ [ summarize ──direct──▶ split ]
    split ──PVC──▶ pod partial (3 replicas): partial_sum ──PVC──▶ total

Each replica of partial_sum sums its own slice, using ``ptk.replica()``; total receives the three partial
sums as a list in replica order. Run it as plain Python with ``PYTHONPATH=../../runtime python3
pipeline.py``, or with ptk: ``ptk run pipeline.py``.
"""

from ptk import container, pod, replica, task

COUNT = 10_000
REPLICAS = 3


@pod(name="ingest", output={"type": "IPC"})
def generate():
    numbers = list(range(1, COUNT + 1))
    return numbers


@pod(name="ingest", input={"generate"}, output={"type": "Volume"})
def square(numbers):
    squares = [number * number for number in numbers]
    return squares


@pod(name="ingest", input={"square"})
@container(name="summarize")
def summarize(squares):
    summary = {"count": len(squares), "values": squares}
    return summary


@pod(name="ingest", input={"summarize"}, output={"type": "PVC", "size": "64Mi"})
@container(name="summarize")
def split(summary):
    values = summary["values"]
    size = -(-len(values) // REPLICAS)
    chunks = [values[start:start + size] for start in range(0, len(values), size)]
    return chunks


@task(name="partial_sum", input={"split"}, output={"type": "PVC"})
@pod(name="partial", num_replicas=REPLICAS)
def partial_sum(chunks):
    index, count = replica()
    # Outside ptk there is one replica, which sums every chunk.
    mine = chunks if count == 1 else [chunks[index]]
    partial = {"replica": index, "sum": sum(sum(chunk) for chunk in mine)}
    return partial


@task(name="total", input={"partial_sum"})
def total(partial):
    # With replicas, partial is the list of every replica's value, in replica order.
    partials = partial if isinstance(partial, list) else [partial]
    result = {
        "replicas": [entry["replica"] for entry in partials],
        "sum_of_squares": sum(entry["sum"] for entry in partials),
        "expected": COUNT * (COUNT + 1) * (2 * COUNT + 1) // 6,
    }
    return result


def main():
    numbers = generate()
    squares = square(numbers)
    summary = summarize(squares)
    chunks = split(summary)
    result = total(partial_sum(chunks))
    print(f"sum of squares {result['sum_of_squares']} (expected {result['expected']})")


if __name__ == "__main__":
    main()
