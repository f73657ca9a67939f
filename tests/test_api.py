"""The public API documents itself: every public function, class and method has a docstring
(a layer's contract methods inherit the base class's), type hints on its signature, and the
package says it is typed (py.typed)."""
import importlib
import inspect
from pathlib import Path

import pytest

import minnet

# The modules a student or an instructor imports from; each one's public names are its API.
MODULES = ["minnet", "minnet.layers", "minnet.losses", "minnet.net", "minnet.params",
           "minnet.optim", "minnet.train", "minnet.datasets", "minnet.plot", "minnet.checker",
           "minnet.registry", "minnet.contract", "minnet.course.bugs", "minnet.course.quiz",
           "minnet.course.grade", "minnet.demo", "minnet.cli"]


def public_callables():
    """{qualified name: object} for every public function, class, method and property."""
    found = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")])
        for name in names:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not obj.__module__.startswith("minnet"):
                continue            # numpy, pathlib and the like, imported for use
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(value, property):
                        found[f"{obj.__module__}.{obj.__qualname__}.{attr}"] = value
                    elif inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
                        found[f"{obj.__module__}.{obj.__qualname__}.{attr}"] = getattr(obj, attr)
    return found


PUBLIC = public_callables()


def test_the_api_is_large_enough_for_the_checks_below_to_mean_something():
    # Guards the collector itself: if it found nothing, every test below would pass vacuously.
    assert len(PUBLIC) > 150
    assert "minnet.layers.dense.Affine.forward" in PUBLIC
    assert "minnet.optim.SGD" in PUBLIC


def test_every_public_callable_has_a_docstring():
    missing = sorted(name for name, obj in PUBLIC.items() if not inspect.getdoc(obj))
    assert not missing, f"{len(missing)} public callables without a docstring: {missing}"


def test_layer_methods_inherit_the_contract_docstring():
    # help(minnet.Affine.forward) shows the contract stated once in the base class.
    for method in ("forward", "backward"):
        doc = inspect.getdoc(getattr(minnet.Affine, method))
        assert doc == inspect.getdoc(getattr(minnet.contract.Layer, method))
        assert "dout" in inspect.getdoc(minnet.Affine.backward)


def _unannotated(function):
    """The parameters (and 'return') of function that carry no type hint."""
    signature = inspect.signature(function)
    names = [p.name for p in signature.parameters.values()
             if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    if signature.return_annotation is inspect.Signature.empty and function.__name__ != "__init__":
        names.append("return")
    return names


def _follows_the_contract(name):
    """True for a layer's or loss's method that implements a method of the contract in
    minnet/contract.py: its types are stated once, there, with its docstring."""
    *owner_path, method = name.split(".")
    owner = PUBLIC.get(".".join(owner_path))
    if not inspect.isclass(owner):
        return False
    return any(base.__module__ == "minnet.contract" and method in vars(base)
               for base in owner.__mro__[1:])


def test_every_public_function_and_method_has_type_hints():
    gaps = {}
    for name, obj in PUBLIC.items():
        if _follows_the_contract(name):
            continue
        if isinstance(obj, property):
            obj = obj.fget
        if inspect.isclass(obj):
            obj = obj.__init__
            if obj is object.__init__:
                continue
        if not callable(obj) or not hasattr(obj, "__code__"):
            continue
        missing = _unannotated(obj)
        if missing:
            gaps[name] = missing
    assert not gaps, f"{len(gaps)} public callables lack type hints: " + "; ".join(
        f"{name} ({', '.join(params)})" for name, params in sorted(gaps.items()))


def test_the_package_says_it_is_typed():
    marker = Path(minnet.__file__).parent / "py.typed"
    assert marker.is_file(), "minnet/py.typed is missing: type checkers would ignore the hints"


@pytest.mark.parametrize("name", ["minnet.Affine.forward", "minnet.check_net", "minnet.fit"])
def test_help_is_not_empty(name, capsys):
    obj = minnet
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    help(obj)
    shown = capsys.readouterr().out
    # More than the signature line: the docstring itself is shown.
    assert len(shown.strip().splitlines()) > 3, shown
