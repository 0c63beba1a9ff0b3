#!/usr/bin/python3
"""Assert that results files hold bit-identical runs (only timestamps and the
thread count and command line may differ).

Usage: /usr/bin/python3 compare_runs.py [--also-ignore NAME ...] A.h5 B.h5 [C.h5 ...]

--also-ignore NAME: an attribute that may differ too (e.g. build_type when
comparing two builds).
"""
import sys

import h5py
import numpy as np

MAY_DIFFER = {"created_utc", "wall_seconds", "threads", "command_line"}  # timestamps and how it was run


def comparable(value):
    """Raw bytes of numeric data; the text itself of strings (bytes of string
    arrays would be pointers)."""
    array = np.asarray(value)
    if array.dtype.kind in "OSU":
        return [v.decode() if isinstance(v, bytes) else str(v) for v in array.ravel().tolist()]
    return (array.dtype.str, array.shape, array.tobytes())


def flatten(path):
    """Every dataset and attribute of a file, by object path."""
    items = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            for key, value in obj.attrs.items():
                if key not in MAY_DIFFER:
                    items[f"{name}@{key}"] = comparable(value)
            if isinstance(obj, h5py.Dataset):
                items[name] = comparable(obj[()])
        visit("/", f)
        f.visititems(visit)
    return items


def main(paths):
    reference = flatten(paths[0])
    status = 0
    for path in paths[1:]:
        other = flatten(path)
        if reference.keys() != other.keys():
            print(f"{path}: objects differ: {sorted(reference.keys() ^ other.keys())}")
            status = 1
            continue
        for key in sorted(reference):
            if reference[key] != other[key]:
                print(f"{path}: {key} differs from {paths[0]}")
                status = 1
    if status == 0:
        print(f"{len(paths)} files identical in {len(reference)} datasets and attributes")
    return status


if __name__ == "__main__":
    args = sys.argv[1:]
    while len(args) >= 2 and args[0] == "--also-ignore":
        MAY_DIFFER.add(args[1])
        args = args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    sys.exit(main(args))
