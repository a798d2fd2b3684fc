"""A shipped module used straight from git, as the README shows: `source = "git::<repo>//modules/seed?ref=<tag>"`.

A clean copy of the repository (the files git tracks, or would track, as a clone holds them) becomes a local git
repository with a tag. A root calling `modules/seed` at that tag goes through `terraform init`, `validate` and `plan`
on the real provider (moto as its AWS): the module carries its `callback.zip`, the package sfngen ships. The same
root on a copy whose module lost its package fails the plan at the module's precondition, which says what to do,
and not inside `filebase64sha256`."""

import base64
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import ROOT
from tfstack import Stack, provider_settings, toolchain

TAG = "v0.0.0-test"
PACKAGE = "modules/seed/callback.zip"


def git(*args, cwd: Path) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=sfngen tests", "-c", "user.email=tests@sfngen.invalid", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def clean_repository(into: Path, leave_out: tuple = ()) -> str:
    """A git repository at `into` holding the files a clone of this one would hold if its working tree were
    committed now (tracked files, and new ones git does not ignore), tagged TAG; its `git::` URL."""
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT).split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if name in leave_out or not source.is_file():
            continue
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, into / name)
    git("init", "-q", cwd=into)
    git("add", "-A", cwd=into)
    git("commit", "-q", "-m", "a clean copy", cwd=into)
    git("tag", TAG, cwd=into)
    return f"git::file://{into}"


def root_calling(stack: Stack, url: str):
    """A root with the provider pointed at moto and one module block: modules/seed from git at TAG."""
    version = toolchain().provider_version
    pin = f'\n      version = "{version}"' if version else ""
    (stack.dir / "main.tf").write_text(
        "terraform {\n  required_providers {\n    aws = {\n"
        f'      source  = "hashicorp/aws"{pin}\n    }}\n  }}\n}}\n\n'
        f'provider "aws" {{\n{provider_settings(stack.endpoint)}}}\n\n'
        f'module "callbacks" {{\n  source = "{url}//modules/seed?ref={TAG}"\n}}\n'
    )


@pytest.fixture
def workspace():
    folder = Path(tempfile.mkdtemp(prefix="sfngen-git-source-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_module_from_git_plans_with_the_package_it_carries(moto, workspace):
    url = clean_repository(workspace / "repo")
    stack = Stack("git-source", workspace / "root", moto.endpoint)
    root_calling(stack, url)
    stack.init()
    fetched = stack.dir / ".terraform" / "modules" / "callbacks" / PACKAGE
    shipped = (ROOT / "packages" / "callback-arm64.zip").read_bytes()
    assert fetched.read_bytes() == shipped, "terraform init fetched another package than sfngen ships"
    report = stack.validate()
    assert report["valid"] and not report["diagnostics"], report
    code, plan = stack.plan()
    assert code == 2, "a first plan creates the module"
    function = next(
        change for change in plan["resource_changes"] if change["address"] == "module.callbacks.aws_lambda_function.callback"
    )
    after = function["change"]["after"]
    assert after["filename"].endswith(PACKAGE), after["filename"]
    assert after["source_code_hash"] == base64.b64encode(hashlib.sha256(shipped).digest()).decode()


def test_a_module_without_its_package_fails_the_plan_saying_what_to_do(moto, workspace):
    url = clean_repository(workspace / "repo", leave_out=(PACKAGE,))
    stack = Stack("git-source-no-package", workspace / "root", moto.endpoint)
    root_calling(stack, url)
    stack.init()
    result = stack.terraform("plan", "-input=false", "-no-color", ok=(1,))
    said = result.stdout + result.stderr
    assert "Resource precondition failed" in said, said
    assert "No callback Lambda package at" in said and "sfngen render" in said, said
    assert "filebase64sha256" not in said, f"the plan failed inside the function, not at the precondition:\n{said}"
