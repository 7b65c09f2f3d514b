"""Dataset fingerprinting: hashing throughput, and a second pass over unchanged files.

1. Hashing throughput of ``build_manifest`` (no cache) over 1 GiB of random files
   (64 x 16 MiB; quick: 8 x 16 MiB), in MB/s, against ``sha256sum`` over the same
   files in the same run (both after one untimed read, so both hash from the page
   cache). Informational ratio: ours hashes on several threads, sha256sum on one.
2. The second pass with nothing changed over 10,000 small files (quick: 2,000):
   ``build_manifest`` with a warm file-hash cache, which only stats and looks
   up. Baseline: the first (cold) pass over the same files. Target: < 1 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from benchlib import BenchResult, Row, standalone, temp_dir

from mlops_kernel.dataset_cache import RACY_NS, HashCache
from mlops_kernel.dataset_manifest import build_manifest, default_workers

BIG_FILE = 16 << 20
SMALL_FILE = 512
TARGET_S = 1.0


def _write_big(root: Path, count: int) -> None:
    root.mkdir()
    for i in range(count):
        (root / f"part-{i:03d}.bin").write_bytes(os.urandom(BIG_FILE))


def _write_small(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"d{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.csv").write_bytes(os.urandom(SMALL_FILE))


def _median(fn: object, repetitions: int) -> float:
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(quick: bool = False) -> BenchResult:
    result = BenchResult("datasets")
    big_count = 8 if quick else 64
    small_count = 2_000 if quick else 10_000
    reps = 2 if quick else 3
    with temp_dir("datasets") as tmp:
        big = tmp / "big"
        _write_big(big, big_count)
        files = sorted(str(p) for p in big.iterdir())
        total = big_count * BIG_FILE
        build_manifest(big)  # warm the page cache
        ours = _median(lambda: build_manifest(big), reps)
        single = _median(lambda: build_manifest(big, workers=1), reps)
        sha256sum = shutil.which("sha256sum")
        base: float | None = None
        if sha256sum:
            base = _median(
                lambda: subprocess.run([sha256sum, *files], check=True, capture_output=True), reps
            )
        openssl = shutil.which("openssl")
        ossl: float | None = None
        if openssl:  # sha256sum may lack the CPU's SHA instructions; OpenSSL uses them
            ossl = _median(
                lambda: subprocess.run(
                    [openssl, "dgst", "-sha256", *files], check=True, capture_output=True
                ),
                reps,
            )
        mb = total / 1e6
        result.rows.append(
            Row(
                f"hash {big_count} x 16 MiB, {default_workers()} threads",
                mb / ours,
                "MB/s",
                "sha256sum" if base else "",
                mb / base if base else None,
                (mb / ours) / (mb / base) if base else None,
            )
        )
        result.rows.append(
            Row(
                "hash, one thread",
                mb / single,
                "MB/s",
                "sha256sum" if base else "",
                mb / base if base else None,
                (mb / single) / (mb / base) if base else None,
            )
        )
        if ossl:
            result.rows.append(
                Row(
                    "hash, one thread vs OpenSSL",
                    mb / single,
                    "MB/s",
                    "openssl dgst -sha256",
                    mb / ossl,
                    (mb / single) / (mb / ossl),
                )
            )
        shutil.rmtree(big)

        small = tmp / "small"
        _write_small(small, small_count)
        time.sleep(RACY_NS / 1e9 + 0.1)  # files this new are not trusted to the cache
        cache_file = tmp / "cache.sqlite"
        with HashCache(cache_file) as cache:
            start = time.perf_counter()
            cold = build_manifest(small, cache)
            cold_s = time.perf_counter() - start
        assert cold.stats.files_hashed == small_count

        def second() -> None:
            with HashCache(cache_file) as cache:
                again = build_manifest(small, cache)
            assert again.stats.files_hashed == 0, again.stats

        warm_s = _median(second, reps)
        result.rows.append(
            Row(
                f"second pass, {small_count:,} unchanged files",
                warm_s,
                "s",
                "first pass",
                cold_s,
                warm_s / cold_s,
                f"< {TARGET_S:.0f} s",
                warm_s < TARGET_S,
            )
        )
    result.details = {
        "big_files": big_count,
        "big_bytes": total,
        "hash_s": ours,
        "hash_one_thread_s": single,
        "sha256sum_s": base,
        "openssl_s": ossl,
        "small_files": small_count,
        "first_pass_s": cold_s,
        "second_pass_s": warm_s,
        "workers": default_workers(),
    }
    result.notes.append(
        f"hashing: {mb / ours:,.0f} MB/s on {default_workers()} threads, {mb / single:,.0f} MB/s "
        f"on one; sha256sum {f'{mb / base:,.0f} MB/s' if base else 'not installed'}, "
        f"openssl {f'{mb / ossl:,.0f} MB/s' if ossl else 'not installed'} "
        "(all from the page cache; both tools hash on one thread)"
    )
    result.notes.append(
        f"second pass over {small_count:,} unchanged files: {warm_s:.3f} s "
        f"(first pass {cold_s:.3f} s): one stat and one cache lookup per file"
    )
    return result


if __name__ == "__main__":
    standalone(run)
