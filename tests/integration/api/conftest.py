"""Fixtures of the Chain Reactor API's tests: the real service (`python -m dinfra_api`, uvicorn)
on the dev chain, and a provider of the tests' own."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "collection"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "cloudstack"))
# The reactor tests' helpers: funded accounts, publish to Kubo, the reference descriptors, a lying gateway.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "reactor"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
