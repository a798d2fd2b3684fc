#!/usr/bin/env python3
"""Finds a local Terraform provider mirror that holds a given hashicorp/aws release.

Usage: scripts/provider_mirror.py VERSION [--cli-config FILE]

Prints the mirror's root folder (the folder holding `registry.terraform.io/`), or `registry` when no mirror on
this machine has that release. With --cli-config FILE it also writes a Terraform CLI configuration that installs
hashicorp/aws from that mirror only (or, for `registry`, from the registry as usual).

Where it looks, in order: $SFNGEN_PROVIDER_MIRROR (a mirror root; an error if it lacks the release), Terraform's
own implied local mirror folders (~/.terraform.d/plugins, $XDG_DATA_HOME/terraform/plugins,
$XDG_DATA_DIRS/terraform/plugins), then a shallow search of /opt, /srv, /usr/local/share, /usr/share, /var/lib,
/usr/local/lib and $HOME for a `registry.terraform.io/hashicorp/aws/VERSION/linux_amd64/terraform-provider-aws*`
(unpacked layout) or `registry.terraform.io/hashicorp/aws/terraform-provider-aws_VERSION_linux_amd64.zip`
(packed layout). Nothing is downloaded."""
import os
import pathlib
import platform
import sys

REGISTRY = "registry"
HOST_PATH = pathlib.Path("registry.terraform.io", "hashicorp", "aws")
# How deep below each searched folder a mirror root may sit: /opt/ROOT/registry.terraform.io/...
SEARCH_DEPTH = 3


def target_platform() -> str:
    """Terraform's name for this machine's platform, e.g. linux_amd64."""
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{sys.platform}_{machine}"


def holds(root: pathlib.Path, version: str) -> bool:
    """Whether `root` is a mirror root with hashicorp/aws VERSION for this platform, in either layout."""
    provider = root / HOST_PATH
    unpacked = provider / version / target_platform()
    if unpacked.is_dir() and any(p.name.startswith("terraform-provider-aws") for p in unpacked.iterdir()):
        return True
    return (provider / f"terraform-provider-aws_{version}_{target_platform()}.zip").is_file()


def implied_roots() -> list[pathlib.Path]:
    """Terraform's implied local mirror folders on Unix (see its provider installation docs)."""
    home = pathlib.Path.home()
    data_home = pathlib.Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    return [home / ".terraform.d" / "plugins", data_home / "terraform" / "plugins"] + [
        pathlib.Path(d) / "terraform" / "plugins" for d in data_dirs if d
    ]


def searched_roots() -> list[pathlib.Path]:
    """Common places for a hand-made mirror."""
    bases = ["/opt", "/srv", "/usr/local/share", "/usr/share", "/var/lib", "/usr/local/lib", str(pathlib.Path.home())]
    found = []
    for base in map(pathlib.Path, bases):
        for depth in range(SEARCH_DEPTH):
            pattern = "/".join(["*"] * depth + ["registry.terraform.io"]) if depth else "registry.terraform.io"
            try:
                found.extend(sorted(p.parent for p in base.glob(pattern) if p.is_dir()))
            except OSError:
                continue
    return found


def find(version: str) -> str:
    """The mirror root holding hashicorp/aws VERSION, or `registry`."""
    override = os.environ.get("SFNGEN_PROVIDER_MIRROR")
    if override:
        if not holds(pathlib.Path(override), version):
            sys.exit(
                f"SFNGEN_PROVIDER_MIRROR={override} has no {HOST_PATH}/{version}/{target_platform()}/"
                "terraform-provider-aws* (nor the packed .zip); unset it to search or use the registry"
            )
        return str(pathlib.Path(override).resolve())
    for root in implied_roots() + searched_roots():
        if holds(root, version):
            return str(root.resolve())
    return REGISTRY


def cli_config(mirror: str) -> str:
    """A Terraform CLI configuration installing hashicorp/aws from `mirror` only, or from the registry."""
    if mirror == REGISTRY:
        return "# hashicorp/aws from the registry: no local mirror holds the wanted release.\n"
    return f"""provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/*/*"]
  }}
}}
"""


def main(argv: list[str]) -> None:
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--cli-config"):
        sys.exit(__doc__)
    mirror = find(argv[0])
    if len(argv) == 3:
        pathlib.Path(argv[2]).write_text(cli_config(mirror))
    print(mirror)


if __name__ == "__main__":
    main(sys.argv[1:])
