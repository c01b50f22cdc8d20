"""Local base images for `make test-compose`, built from Debian packages.

No image registry can be reached from the test machines, so python:3.11-slim,
mysql:8.4, nginx and redis cannot be pulled. Each base under tests/compose/bases/<name>/
is a recipe: `debootstrap` (the Debian suite and the packages of a root filesystem,
which debootstrap builds from the apt mirror; paths to remove from it), an optional
`setup.sh` run in that root before it is slimmed, a Containerfile that `podman build`s
the image on top of that root (`podman import`ed), and the files it copies.

Cached under var/compose-bases/: the root as a tarball and the built base as an
image archive (`podman save`), both named by the hash of the recipe, so a changed
recipe is rebuilt and an unchanged one is only loaded. MariaDB stands in for MySQL.

    python -m tests.compose.bases     # builds (or finds) the four bases, prints their names
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
RECIPES_DIR = Path(__file__).resolve().with_name("bases")
CACHE_DIR = REPO_DIR / "var" / "compose-bases"
CONTAINERS_CONF = Path(__file__).resolve().with_name("containers.conf")
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# The machine's trusted certificates go into the bases: where HTTPS passes through a
# proxy with its own authority (as on these machines), pip in a build trusts it too.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What each base stands in for: the compose variable it is passed as.
BASES = {
    "python": "PYTHON_IMAGE",
    "mariadb": "MYSQL_IMAGE",
    "nginx": "NGINX_IMAGE",
    "redis": "REDIS_IMAGE",
}
# Leaves nothing an image does not need (as Debian's own slim images do); these
# files take a third of a minimal root.
_SLIM = (
    "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb"
    " /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/*"
    " /var/log/*.log /var/log/apt/* /tmp/* /root/.cache\n"
    "mkdir -p /etc/dpkg/dpkg.cfg.d\n"
    "printf 'path-exclude /usr/share/doc/*\\npath-exclude /usr/share/man/*\\n"
    "path-exclude /usr/share/info/*\\npath-exclude /usr/share/locale/*\\n'"
    " > /etc/dpkg/dpkg.cfg.d/slim\n"
)


def podman_env() -> dict[str, str]:
    """podman with the project's containers.conf (runc, limits no higher than the machine's)."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args], env=podman_env(), check=check, capture_output=capture, text=True
    )


@dataclass(frozen=True)
class Recipe:
    name: str
    suite: str
    include: tuple[str, ...]
    remove: tuple[str, ...]
    root_key: str
    key: str

    @classmethod
    def read(cls, name: str) -> "Recipe":
        directory = RECIPES_DIR / name
        fields = {}
        for line in (directory / "debootstrap").read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                field, _, value = line.partition("=")
                fields[field.strip()] = value.split()
        # The root: what debootstrap is given and what is done to it (minutes to rebuild).
        root = hashlib.sha256()
        for part in ("debootstrap", "setup.sh"):
            path = directory / part
            root.update(path.read_bytes() if path.is_file() else b"-")
        root.update(DEBIAN_MIRROR.encode() + _SLIM.encode())
        if HOST_CA_BUNDLE.is_file():
            root.update(HOST_CA_BUNDLE.read_bytes())
        # The image: the root and every file of the recipe (seconds to rebuild).
        image = hashlib.sha256(root.digest())
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            image.update(path.relative_to(directory).as_posix().encode() + b"\0")
            image.update(path.read_bytes() + b"\0")
        return cls(
            name=name,
            suite=fields["suite"][0],
            include=tuple(fields.get("include", [])),
            remove=tuple(fields.get("remove", [])),
            root_key=root.hexdigest()[:16],
            key=image.hexdigest()[:16],
        )

    @property
    def image(self) -> str:
        return f"localhost/tienda-compose-base-{self.name}:{self.key}"

    @property
    def rootfs_tarball(self) -> Path:
        return CACHE_DIR / f"{self.name}-{self.root_key}.rootfs.tar"

    @property
    def image_archive(self) -> Path:
        return CACHE_DIR / f"{self.name}-{self.key}.image.tar"


def _log(message: str) -> None:
    print(f"[compose-bases] {message}", file=sys.stderr, flush=True)


def _debootstrap(recipe: Recipe) -> None:
    """The root filesystem of the recipe, as a tarball (the slow part: minutes)."""
    work = CACHE_DIR / f"tmp-{recipe.name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    root = work / "root"
    started = time.monotonic()
    _log(f"{recipe.name}: debootstrap {recipe.suite} + {' '.join(recipe.include)}")
    try:
        command = ["debootstrap", "--variant=minbase"]
        if recipe.include:
            command.append("--include=" + ",".join(recipe.include))
        result = subprocess.run(
            [*command, recipe.suite, str(root), DEBIAN_MIRROR], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"debootstrap of {recipe.name} failed:\n{result.stdout[-3000:]}{result.stderr}"
            )
        # debootstrap may leave its mounts inside the root.
        for mount in ("proc", "sys"):
            subprocess.run(["umount", "-l", str(root / mount)], capture_output=True)
        if HOST_CA_BUNDLE.is_file() and (root / "usr/sbin/update-ca-certificates").exists():
            local = root / "usr/local/share/ca-certificates"
            local.mkdir(parents=True, exist_ok=True)
            shutil.copy(HOST_CA_BUNDLE, local / "machine-trusted.crt")
            subprocess.run(
                ["chroot", str(root), "update-ca-certificates"], check=True, capture_output=True
            )
        setup = RECIPES_DIR / recipe.name / "setup.sh"
        if setup.is_file():
            result = subprocess.run(
                ["chroot", str(root), "sh", "-ec", setup.read_text()],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise RuntimeError(f"{setup} failed:\n{result.stdout[-3000:]}{result.stderr}")
        removals = "".join(f"rm -rf {path}\n" for path in recipe.remove)
        subprocess.run(["chroot", str(root), "sh", "-ec", _SLIM + removals], check=True)
        partial = recipe.rootfs_tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "-C", str(root), "--exclude=./proc/*", "--exclude=./sys/*",
             "--exclude=./dev/*", "-cf", str(partial), "."],
            check=True,
        )  # fmt: skip
        partial.rename(recipe.rootfs_tarball)
    finally:
        for mount in ("proc", "sys"):
            subprocess.run(["umount", "-l", str(root / mount)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    _log(f"{recipe.name}: root built in {time.monotonic() - started:.0f}s")


def _image_exists(image: str) -> bool:
    return podman("image", "exists", image, check=False).returncode == 0


def ensure_base(recipe: Recipe) -> str:
    """The recipe's image in podman's store: found, loaded from var/, or built."""
    if _image_exists(recipe.image):
        _log(f"{recipe.name}: {recipe.image} (cached)")
        return recipe.image
    if recipe.image_archive.is_file():
        podman("load", "-q", "-i", str(recipe.image_archive))
        if _image_exists(recipe.image):
            _log(f"{recipe.name}: {recipe.image} (loaded from {recipe.image_archive.name})")
            return recipe.image
    if not recipe.rootfs_tarball.is_file():
        _debootstrap(recipe)
    rootfs_image = f"localhost/tienda-compose-rootfs-{recipe.name}:{recipe.key}"
    podman("import", "-q", str(recipe.rootfs_tarball), rootfs_image)
    result = podman(
        "build", "-q", "--pull=never", "--build-arg", f"ROOTFS={rootfs_image}",
        "-t", recipe.image, "-f", str(RECIPES_DIR / recipe.name / "Containerfile"),
        str(RECIPES_DIR / recipe.name), check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"podman build of the {recipe.name} base failed:\n{result.stderr}")
    podman("rmi", rootfs_image, check=False)
    partial = recipe.image_archive.with_suffix(".partial")
    podman("save", "-q", "-o", str(partial), recipe.image)
    partial.rename(recipe.image_archive)
    _log(f"{recipe.name}: {recipe.image} (built)")
    return recipe.image


def _forget_stale(recipes: list[Recipe]) -> None:
    """Cached roots, archives and images of older recipes go (a changed recipe replaces them)."""
    current = {path.name for r in recipes for path in (r.rootfs_tarball, r.image_archive)}
    for path in CACHE_DIR.glob("*.tar"):
        if path.name not in current:
            path.unlink()
    listed = podman("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
    images = {r.image for r in recipes}
    for image in listed:
        if image.startswith("localhost/tienda-compose-base-") and image not in images:
            podman("rmi", image, check=False)  # refused while a container uses it: fine


class BaseBuilds:
    """The four bases, found or built in the background, two at a time, Python's first:
    the services' images can be built on it while the others are still being made."""

    def __init__(self):
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        self.recipes = {BASES[name]: Recipe.read(name) for name in BASES}
        _forget_stale(list(self.recipes.values()))
        # debootstrap is mostly waiting for the mirror and for dpkg: two at once.
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._futures = {
            variable: self._pool.submit(ensure_base, recipe)
            for variable, recipe in self.recipes.items()
        }
        self._pool.shutdown(wait=False)

    @property
    def images(self) -> dict[str, str]:
        """{PYTHON_IMAGE: image, ...}: their names are known before they are built."""
        return {variable: recipe.image for variable, recipe in self.recipes.items()}

    def wait(self, variable: str) -> str:
        return self._futures[variable].result()

    def wait_all(self) -> dict[str, str]:
        return {variable: self.wait(variable) for variable in self._futures}


def ensure_bases() -> dict[str, str]:
    """{PYTHON_IMAGE: image, MYSQL_IMAGE: ..., NGINX_IMAGE: ..., REDIS_IMAGE: ...}."""
    return BaseBuilds().wait_all()


if __name__ == "__main__":
    for variable, image in ensure_bases().items():
        print(f"{variable}={image}")
