"""The official Python SDK with 8 threads: the first DescribeSendFileResults
page (PageNumber/PageSize=50) gives TotalCount, then the other pages are
asked for 8 at a time.

Run by bench/sdk_compare.sh with target/sdk-venv's interpreter; the endpoint
and credentials come from the environment. Prints the tasks and
(file, instance) results it read.
"""

from concurrent.futures import ThreadPoolExecutor

from alibabacloud_ecs20140526 import models as ecs

from sdk_sequential import REGION, client

PAGE = 50
THREADS = 8


def page(c, number):
    return c.describe_send_file_results(
        ecs.DescribeSendFileResultsRequest(
            region_id=REGION, page_number=number, page_size=PAGE
        )
    ).body


def main():
    c = client()
    first = page(c, 1)
    pages = max(1, -(-int(first.total_count) // PAGE))
    with ThreadPoolExecutor(THREADS) as pool:
        bodies = [first] + list(pool.map(lambda n: page(c, n), range(2, pages + 1)))
    tasks = results = 0
    for body in bodies:
        for task in body.invocations.invocation:
            tasks += 1
            results += len(task.invoke_instances.invoke_instance)
    print(f"{tasks} tasks, {results} results")


if __name__ == "__main__":
    main()
