"""numpydoc validation of every public function, class and method of regcode (run by make lint).

Each public object must have a docstring with a summary, document every
parameter it takes (and none it does not), and state what it returns; the
objects a reader starts from carry an example. numpydoc's other checks (style
of the summary line, order of sections, ...) are not enforced.

Usage: python scripts/check_docstrings.py
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

from numpydoc.validate import validate

import regcode

# GL08: no docstring; SS01: no summary; PR01: a parameter is not documented; PR02: a documented
# parameter does not exist; RT01: no Returns section for a function that returns something.
CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01"}
# Where readers start: these must show an example (EX01), and the examples run as doctests.
NEED_EXAMPLES = {
    "regcode.train.fit",
    "regcode.layers.mlp",
    "regcode.optim.SGD",
    "regcode.optim.Adam",
    "regcode.optim.AdamW",
    "regcode.optim.adamw_update",
    "regcode.seeds.run_seeds",
    "regcode.seeds.streams",
}


def public_objects():
    """Dotted names of regcode's public functions and classes, and of the public methods of those classes."""
    for info in pkgutil.walk_packages(regcode.__path__, prefix="regcode."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{module.__name__}.{name}"
            elif inspect.isclass(obj):
                yield f"{module.__name__}.{name}"
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attr}"


def problems(name):
    result = validate(name)
    codes = CHECKS | ({"EX01"} if name in NEED_EXAMPLES else set())
    found = [(code, message) for code, message in result["errors"] if code in codes]
    if result.get("type") in ("type",) and name.count(".") >= 2:
        # A dataclass or NamedTuple documents its fields as Attributes, not Parameters.
        if any(b.__name__ in ("tuple",) for b in inspect.getmro(_resolve(name))) or hasattr(
            _resolve(name), "__dataclass_fields__"
        ):
            found = [(c, m) for c, m in found if c not in ("PR01", "PR02")]
    return found


def _resolve(name):
    module_name, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def main():
    names = sorted(set(public_objects()))
    failures = {name: found for name in names if (found := problems(name))}
    for name, found in failures.items():
        for code, message in found:
            print(f"{name}: {code} {message}")
    print(f"numpydoc: {len(names)} public objects checked, {len(failures)} with problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
