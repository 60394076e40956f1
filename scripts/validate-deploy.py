#!/usr/bin/env python3
"""Validates deploy/ without a container engine or kubectl (issue #14).

What it checks, each failure printed with where it is:

1. deploy/compose.yaml against the Compose Specification's JSON schema (vendored in
   deploy/schemas/compose-spec.json), plus what `docker compose config` or `up` would refuse
   and the schema cannot see: depends_on targets, service_healthy on a service without a
   healthcheck, undeclared secrets and volumes, duplicate keys.
2. deploy/k8s/base and deploy/k8s/overlays/example, rendered by a small kustomize renderer
   below (resources, namespace, images, replicas, strategic-merge patches by file, a
   secretGenerator with files and disableNameSuffixHash; anything else in a kustomization is
   refused, so the rendering stays exact), every object validated with kubernetes-validate
   (strict: no unknown fields) for the oldest and newest Kubernetes versions below, plus the
   references the schemas cannot see: selectors, Secret and ConfigMap keys, probe ports.
3. deploy/k8s/nats-values.yaml: every key exists in the NATS chart's own defaults (vendored in
   deploy/schemas/), a 3-node JetStream cluster, and the relay's stream replicas to match.
4. Drift from the code: every flag, subcommand and environment variable the manifests pass to
   a parcelport binary is declared by that binary's clap definitions in the Rust sources;
   every probe or healthcheck path is served by that binary; every projector view the code
   has runs once in each manifest; every parcelport binary is built by deploy/Dockerfile.

Run from anywhere: `python3 scripts/validate-deploy.py`. Exits 1 on any failure.
`--render deploy/k8s/overlays/example` prints what the renderer builds (as `kubectl kustomize`
would) and stops. Needs the
PyPI packages jsonschema, PyYAML and kubernetes-validate (scripts/ensure-services.sh
installs them).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import shlex
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
K8S_BASE = DEPLOY / "k8s" / "base"
K8S_OVERLAY = DEPLOY / "k8s" / "overlays" / "example"
NATS_VALUES = DEPLOY / "k8s" / "nats-values.yaml"
NATS_CHART_DEFAULTS = DEPLOY / "schemas" / "nats-chart-1.2.11-values.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
# The oldest Kubernetes minor release the manifests promise to work on; the newest one the
# installed kubernetes-validate carries is checked too.
K8S_OLDEST = "1.30"

try:
    import jsonschema
    import kubernetes_validate
    import yaml
except ImportError as missing:  # pragma: no cover - the message is the point
    print(
        f"validate-deploy: FAIL: the Python package {missing.name!r} is missing; "
        "run scripts/ensure-services.sh (it installs jsonschema, PyYAML and "
        "kubernetes-validate with pip)",
        file=sys.stderr,
    )
    sys.exit(1)


class Problems:
    """Every failure found, reported together at the end."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.notes: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def note(self, message: str) -> None:
        self.notes.append(message)


PROBLEMS = Problems()


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- YAML: duplicate keys are errors (Compose and kubectl refuse them; PyYAML keeps the last) ---


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (merged `<<` keys may be
    overridden, as YAML says)."""


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.load(file, Loader=StrictLoader)


def load_yaml_all(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as file:
        return [doc for doc in yaml.load_all(file, Loader=StrictLoader) if doc is not None]


# --- the Rust sources: binaries, their clap flags and environment variables, their routes ----


def kebab(name: str) -> str:
    return name.replace("_", "-")


def camel(word: str) -> str:
    return "".join(part.capitalize() for part in word.split("-"))


def balanced(text: str, start: int) -> int:
    """Index just past the parenthesis closing the one at `start`."""
    depth = 0
    index = start
    in_string = False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise ValueError("unbalanced attribute")


ARG_ATTRIBUTE = re.compile(r"#\[(?:arg|clap)\(")
FIELD_AFTER_ATTRIBUTE = re.compile(
    r"\]\s*(?:(?:#\[[^\]]*\]|///[^\n]*|//[^\n]*)\s*)*(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:"
)


class Binary:
    """One `[[bin]]` of a services/* package, with what its command line accepts."""

    def __init__(self, name: str, package_dir: Path, main: Path) -> None:
        self.name = name
        self.package_dir = package_dir
        self.files = self._files(main)
        self.flags: set[str] = {"help", "version"}
        self.envs: set[str] = set()
        self.text = ""
        for file in self.files:
            text = file.read_text(encoding="utf-8")
            self.text += text + "\n"
            self._read_clap(text)
            self._read_flattened(text)
        # Routes and value names may live anywhere in the package's sources.
        self.package_text = "\n".join(
            path.read_text(encoding="utf-8") for path in sorted((package_dir / "src").rglob("*.rs"))
        )

    @staticmethod
    def _files(main: Path) -> list[Path]:
        """The binary's root file and the modules it declares (`mod x;`), recursively."""
        files: list[Path] = []
        pending = [main]
        while pending:
            file = pending.pop()
            if file in files:
                continue
            files.append(file)
            text = file.read_text(encoding="utf-8")
            directory = file.parent
            for module in re.findall(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text):
                for candidate in (directory / f"{module}.rs", directory / module / "mod.rs"):
                    if candidate.exists():
                        pending.append(candidate)
                        break
        return files

    def _read_clap(self, text: str) -> None:
        for match in ARG_ATTRIBUTE.finditer(text):
            open_paren = match.end() - 1
            end = balanced(text, open_paren)
            body = text[open_paren + 1 : end - 1]
            field = FIELD_AFTER_ATTRIBUTE.match(text, end)
            explicit = re.search(r'\blong\s*=\s*"([^"]+)"', body)
            if explicit:
                self.flags.add(explicit.group(1))
            elif re.search(r"\blong\b(?!\s*=)", body) and field:
                self.flags.add(kebab(field.group(1)))
            env = re.search(r'\benv\s*=\s*"([^"]+)"', body)
            if env:
                self.envs.add(env.group(1))

    def _read_flattened(self, text: str) -> None:
        """Flags of `#[command(flatten)] field: path::Struct` fields: the struct's own `#[arg]`s,
        wherever in crates/ or services/ it is defined (`notifier::NotifierFlags`)."""
        for struct in re.findall(r"#\[command\(flatten\)\]\s*(?:pub\s+)?\w+\s*:\s*([\w:]+)", text):
            name = struct.split("::")[-1]
            for source in sorted(ROOT.glob("*/**/src/**/*.rs")):
                if "target" in source.parts:
                    continue
                code = source.read_text(encoding="utf-8")
                start = re.search(rf"(?m)^\s*pub struct {re.escape(name)}\s*\{{", code)
                if start:
                    end = code.find("\n}", start.end())
                    self._read_clap(code[start.start() : end if end >= 0 else len(code)])
                    break
            else:
                PROBLEMS.add(rel(self.package_dir), f"flattened flags {struct}: struct not found")

    def has_subcommand(self, word: str) -> bool:
        return re.search(rf"(?m)^\s*{re.escape(camel(word))}\s*[({{,]", self.text) is not None

    def serves(self, path: str) -> bool:
        return f'"{path}"' in self.package_text


def read_binaries() -> dict[str, Binary]:
    binaries: dict[str, Binary] = {}
    for manifest in sorted((ROOT / "services").glob("*/Cargo.toml")):
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        for entry in data.get("bin", []):
            name = entry["name"]
            if not name.startswith("parcelport"):
                continue  # benches and tools: not deployed
            main = manifest.parent / entry.get("path", "src/main.rs")
            binaries[name] = Binary(name, manifest.parent, main)
    if not binaries:
        PROBLEMS.add("services/*/Cargo.toml", "no parcelport binary found")
    return binaries


def projector_views() -> set[str]:
    """The `--view` values `parcelport-projector` accepts (its clap ValueEnum)."""
    lib = ROOT / "services" / "projector" / "src" / "lib.rs"
    text = lib.read_text(encoding="utf-8")
    enum = re.search(r"pub enum View \{(.*?)\n\}", text, re.DOTALL)
    if not enum:
        PROBLEMS.add(rel(lib), "cannot find `pub enum View` to read the projector's views")
        return set()
    return set(re.findall(r'#\[value\(name\s*=\s*"([^"]+)"\)\]', enum.group(1)))


# --- command lines: which parcelport binaries a container runs, with which flags -------------

SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash"}
SHELL_SEPARATORS = {";", "&&", "||", "|", "&", "do", "done", "then", "fi", "else", "(", ")"}


def words_of(argv: list[str]) -> list[str]:
    """The argv, or the words of the script it hands to a shell with -c."""
    if argv and argv[0] in SHELLS and "-c" in argv[1:]:
        index = argv.index("-c")
        if index + 1 < len(argv):
            lexer = shlex.shlex(argv[index + 1], posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            return list(lexer)
    return argv


class Invocation:
    def __init__(self, binary: str, subcommands: list[str], flags: list[tuple[str, str | None]]):
        self.binary = binary
        self.subcommands = subcommands
        self.flags = flags  # (name, value or None)

    def value(self, flag: str) -> str | None:
        for name, value in self.flags:
            if name == flag:
                return value
        return None


def invocations(argv: list[str], binaries: dict[str, Binary]) -> list[Invocation]:
    words = words_of(argv)
    found: list[Invocation] = []
    index = 0
    while index < len(words):
        word = words[index]
        name = word.rsplit("/", 1)[-1]
        if name not in binaries:
            index += 1
            continue
        subcommands: list[str] = []
        flags: list[tuple[str, str | None]] = []
        index += 1
        while index < len(words) and words[index] not in SHELL_SEPARATORS:
            current = words[index]
            if current.startswith("--"):
                flag, equals, given = current[2:].partition("=")
                value: str | None = given if equals else None
                following = words[index + 1] if index + 1 < len(words) else None
                if (
                    not equals
                    and following is not None
                    and not following.startswith("-")
                    and following not in SHELL_SEPARATORS
                ):
                    value = following  # or a positional argument: either way not a flag
                    index += 1
                flags.append((flag, value))
            elif not flags and re.fullmatch(r"[a-z][a-z0-9-]*", current):
                subcommands.append(current)
            index += 1
        found.append(Invocation(name, subcommands, flags))
    return found


def check_command_line(
    where: str,
    argv: list[str],
    env_names: list[str],
    binaries: dict[str, Binary],
    counts: dict[str, int],
) -> list[Invocation]:
    runs = invocations(argv, binaries)
    if not runs:
        PROBLEMS.add(where, f"runs no parcelport binary ({' '.join(argv) or 'no command'})")
        return runs
    for run in runs:
        binary = binaries[run.binary]
        for word in run.subcommands:
            counts["subcommands"] += 1
            if not binary.has_subcommand(word):
                PROBLEMS.add(
                    where, f"{run.binary} has no subcommand {word!r} in {rel(binary.files[0])}"
                )
        for flag, _ in run.flags:
            counts["flags"] += 1
            if flag not in binary.flags:
                PROBLEMS.add(
                    where,
                    f"{run.binary} has no flag --{flag} (its clap definitions in "
                    f"{', '.join(rel(f) for f in binary.files)} declare: "
                    f"{', '.join('--' + f for f in sorted(binary.flags))})",
                )
    readable = set().union(*(binaries[run.binary].envs for run in runs))
    for name in env_names:
        counts["env"] += 1
        if name not in readable:
            PROBLEMS.add(
                where,
                f"environment variable {name} is read by none of "
                f"{', '.join(sorted({run.binary for run in runs}))} (declared: {', '.join(sorted(readable))})",
            )
    return runs


# --- 1. Compose --------------------------------------------------------------------------------


def argv_of(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(item) for item in value]


def compose_env_names(service: dict[str, Any]) -> list[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return list(environment)
    return [item.split("=", 1)[0] for item in environment]


def healthcheck_url(service: dict[str, Any]) -> tuple[int, str] | None:
    test = (service.get("healthcheck") or {}).get("test")
    text = " ".join(test) if isinstance(test, list) else str(test or "")
    match = re.search(r"https?://(?:127\.0\.0\.1|localhost):(\d+)(/[^\s\"'?]*)", text)
    return (int(match.group(1)), match.group(2)) if match else None


def listen_port(run: Invocation) -> int | None:
    value = run.value("listen")
    if value and ":" in value:
        return int(value.rsplit(":", 1)[1])
    return None


def check_compose(
    binaries: dict[str, Binary], counts: dict[str, int]
) -> tuple[dict[str, list[Invocation]], str | None]:
    """The parcelport binaries each service runs, and the NATS image the cluster runs."""
    where = rel(COMPOSE_FILE)
    try:
        compose = load_yaml(COMPOSE_FILE)
    except (OSError, yaml.YAMLError) as error:
        PROBLEMS.add(where, f"cannot read: {error}")
        return {}, None
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(
        validator.iter_errors(compose), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        PROBLEMS.add(where, f"Compose schema: at {path}: {error.message}")

    services: dict[str, Any] = compose.get("services") or {}
    secrets = set((compose.get("secrets") or {}).keys())
    volumes = set((compose.get("volumes") or {}).keys())
    runs_by_service: dict[str, list[Invocation]] = {}
    parcelport_images = set()
    nats_nodes = []
    for name, service in services.items():
        here = f"{where}: service {name}"
        for target, condition in (
            (service.get("depends_on") or {}).items()
            if isinstance(service.get("depends_on"), dict)
            else []
        ):
            if target not in services:
                PROBLEMS.add(here, f"depends_on names no service {target!r}")
                continue
            wanted = (condition or {}).get("condition")
            check = services[target].get("healthcheck")
            if wanted == "service_healthy" and (not check or check.get("disable")):
                PROBLEMS.add(
                    here, f"waits for {target} to be healthy, but {target} has no healthcheck"
                )
        for secret in service.get("secrets") or []:
            source = secret if isinstance(secret, str) else secret.get("source")
            if source not in secrets:
                PROBLEMS.add(here, f"uses secret {source!r}, not declared under top-level secrets")
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source and not source.startswith((".", "/", "~", "$")) and source not in volumes:
                PROBLEMS.add(here, f"uses volume {source!r}, not declared under top-level volumes")
        image = str(service.get("image", ""))
        if image.startswith("nats"):
            nats_nodes.append((name, service))
        if "parcelport" not in image:
            continue
        parcelport_images.add(image)
        argv = argv_of(service.get("entrypoint")) + argv_of(service.get("command"))
        runs = check_command_line(here, argv, compose_env_names(service), binaries, counts)
        runs_by_service[name] = runs
        url = healthcheck_url(service)
        if service.get("healthcheck") and url:
            port, path = url
            for run in runs:
                if not binaries[run.binary].serves(path):
                    PROBLEMS.add(
                        here, f"healthcheck asks {path}, which {run.binary} does not serve"
                    )
                if listen_port(run) not in (None, port):
                    PROBLEMS.add(
                        here,
                        f"healthcheck asks port {port}, but {run.binary} listens on {run.value('listen')}",
                    )
                if binaries[run.binary].serves("/readyz") and path != "/readyz":
                    PROBLEMS.add(
                        here,
                        f"{run.binary} serves /readyz; the healthcheck should ask it, not {path}",
                    )
        elif (
            any(binaries[run.binary].serves("/healthz") for run in runs)
            and runs[0].subcommands == []
        ):
            PROBLEMS.add(
                here,
                f"{runs[0].binary} serves a health endpoint but the service has no healthcheck",
            )
        if "curl" in json.dumps(
            service.get("healthcheck") or {}
        ) and "curl" not in DOCKERFILE.read_text(encoding="utf-8"):
            PROBLEMS.add(
                here, "the healthcheck uses curl, which deploy/Dockerfile does not install"
            )
    if len(parcelport_images) > 1:
        PROBLEMS.add(
            where, f"parcelport services use different images: {sorted(parcelport_images)}"
        )

    # The NATS cluster: three nodes, JetStream, each on its own volume; the stream at R3.
    if len(nats_nodes) != 3:
        PROBLEMS.add(where, f"{len(nats_nodes)} NATS services; the cluster has 3 nodes")
    stores = set()
    for name, service in nats_nodes:
        command = " ".join(argv_of(service.get("command")))
        for needed in ("--jetstream", "--cluster_name", "--routes", "--store_dir"):
            if needed not in command:
                PROBLEMS.add(f"{where}: service {name}", f"nats-server runs without {needed}")
        if not str(service.get("image", "")).startswith("nats:2.10"):
            PROBLEMS.add(f"{where}: service {name}", "the NATS image is not the 2.10 line")
        stores.update(
            v.split(":", 1)[0] if isinstance(v, str) else v.get("source")
            for v in service.get("volumes") or []
        )
    if nats_nodes and len(stores) != len(nats_nodes):
        PROBLEMS.add(where, "the NATS nodes do not each have their own volume")
    for name, runs in runs_by_service.items():
        environment = services[name].get("environment")
        for run in runs:
            if run.binary != "parcelport-relay":
                continue
            replicas = run.value("replicas")
            if replicas is None and isinstance(environment, dict):
                replicas = environment.get("PARCELPORT_RELAY_STREAM_REPLICAS")
            if str(replicas) != str(len(nats_nodes)):
                PROBLEMS.add(
                    f"{where}: service {name}",
                    f"the relay creates the stream with {replicas or 1} replicas, "
                    f"not one per NATS node ({len(nats_nodes)})",
                )
    return runs_by_service, (str(nats_nodes[0][1].get("image")) if nats_nodes else None)


# --- 2. Kustomize, rendered here -----------------------------------------------------------------

KUSTOMIZATION_KEYS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "images",
    "replicas",
    "patches",
    "secretGenerator",
    "generatorOptions",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
}
SCALABLE = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
# Strategic merge: lists merged by key (the Kubernetes patchMergeKey of these fields). Any
# other list is replaced, as in Kubernetes, except `ports`, whose key depends on the object
# (containerPort or port): the renderer refuses to patch it rather than guess.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}
PLACEHOLDER = b"placeholder: the real file is written at deploy time and never committed\n"
# Validation renders a Secret whose files are absent (they are git-ignored) with placeholder
# content, to check its shape; `--render`, like kustomize, refuses.
PLACEHOLDERS_FOR_MISSING_FILES = True


class RenderError(Exception):
    pass


def strategic_merge(target: dict[str, Any], patch: dict[str, Any], where: str) -> None:
    for key, value in patch.items():
        if key.startswith("$"):
            raise RenderError(f"{where}: patch directive {key} is not supported")
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            strategic_merge(target[key], value, f"{where}.{key}")
        elif isinstance(value, list) and key == "ports":
            raise RenderError(f"{where}.ports: patching ports is not supported by this renderer")
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(target.get(key), list):
            merge_key = MERGE_KEYS[key]
            for item in value:
                match = next(
                    (
                        t
                        for t in target[key]
                        if isinstance(t, dict) and t.get(merge_key) == item.get(merge_key)
                    ),
                    None,
                )
                if match is None:
                    target[key].append(copy.deepcopy(item))
                else:
                    strategic_merge(match, item, f"{where}.{key}[{item.get(merge_key)}]")
        else:
            target[key] = copy.deepcopy(value)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    name, _, digest = image.partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return name, tag, digest or None


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        yield spec
    elif obj.get("kind") == "CronJob":
        yield spec["jobTemplate"]["spec"]["template"]["spec"]
    elif "template" in spec:
        yield spec["template"]["spec"]


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for spec in pod_specs(obj):
        yield from spec.get("initContainers") or []
        yield from spec.get("containers") or []


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    path = directory / "kustomization.yaml"
    where = rel(path)
    kustomization = load_yaml(path)
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    if unknown:
        raise RenderError(
            f"{where}: not implemented by this renderer: {', '.join(sorted(unknown))}"
        )
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources") or []:
        target = (directory / resource).resolve()
        if target.is_dir():
            objects += kustomize_build(target)
        elif target.is_file():
            objects += [copy.deepcopy(doc) for doc in load_yaml_all(target)]
        else:
            raise RenderError(f"{where}: resource {resource} does not exist")

    options = kustomization.get("generatorOptions") or {}
    if set(options) - {"disableNameSuffixHash"}:
        raise RenderError(
            f"{where}: generatorOptions other than disableNameSuffixHash are not implemented"
        )
    for generator in kustomization.get("secretGenerator") or []:
        if options.get("disableNameSuffixHash") is not True:
            raise RenderError(
                f"{where}: generated names with a hash suffix are not implemented; set disableNameSuffixHash"
            )
        if set(generator) - {"name", "type", "files"}:
            raise RenderError(f"{where}: secretGenerator supports name, type and files only")
        data = {}
        absent: list[str] = []
        for entry in generator.get("files") or []:
            key, equals, file = entry.partition("=")
            if not equals:
                key, file = Path(entry).name, entry
            source = directory / file
            if source.is_file():
                content = source.read_bytes()
            elif not PLACEHOLDERS_FOR_MISSING_FILES:
                raise RenderError(f"{where}: secretGenerator file {rel(source)} does not exist")
            else:
                content = PLACEHOLDER
                absent.append(rel(source))
            data[key] = base64.b64encode(content).decode("ascii")
        if absent:
            PROBLEMS.note(
                f"Secret {generator['name']} rendered with placeholder content for "
                f"{', '.join(absent)} (written at deploy time, git-ignored)"
            )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": generator["name"]},
                "type": generator.get("type", "Opaque"),
                "data": data,
            }
        )

    for patch in kustomization.get("patches") or []:
        if set(patch) != {"path"}:
            raise RenderError(
                f"{where}: only patches given by `path` (strategic merge) are implemented"
            )
        patch_file = directory / patch["path"]
        for document in load_yaml_all(patch_file):
            kind = document.get("kind")
            name = (document.get("metadata") or {}).get("name")
            matches = [
                o for o in objects if o.get("kind") == kind and o["metadata"].get("name") == name
            ]
            if len(matches) != 1:
                raise RenderError(
                    f"{rel(patch_file)}: patches {kind}/{name}, which matches {len(matches)} objects"
                )
            strategic_merge(matches[0], document, f"{rel(patch_file)}:{kind}/{name}")

    namespace = kustomization.get("namespace")
    if namespace:
        for obj in objects:
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace

    for image in kustomization.get("images") or []:
        if set(image) - {"name", "newName", "newTag", "digest"}:
            raise RenderError(f"{where}: images support name, newName, newTag and digest only")
        hits = 0
        for obj in objects:
            for container in containers(obj):
                name, tag, digest = split_image(container.get("image", ""))
                if name != image["name"]:
                    continue
                hits += 1
                name = image.get("newName", name)
                if "digest" in image:
                    container["image"] = f"{name}@{image['digest']}"
                elif "newTag" in image:
                    container["image"] = f"{name}:{image['newTag']}"
                else:
                    container["image"] = (
                        name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
                    )
        if not hits:
            raise RenderError(f"{where}: image {image['name']} matches no container")

    for replicas in kustomization.get("replicas") or []:
        matches = [
            o
            for o in objects
            if o.get("kind") in SCALABLE and o["metadata"].get("name") == replicas["name"]
        ]
        if not matches:
            raise RenderError(
                f"{where}: replicas for {replicas['name']}, which matches no workload"
            )
        for obj in matches:
            obj["spec"]["replicas"] = int(replicas["count"])
    return objects


def k8s_versions() -> list[str]:
    newest = kubernetes_validate.latest_version()
    newest = ".".join(newest.split(".")[:2])
    return [K8S_OLDEST] if newest == K8S_OLDEST else [K8S_OLDEST, newest]


def name_of(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def check_rendered(
    label: str,
    objects: list[dict[str, Any]],
    complete: bool,
    binaries: dict[str, Binary],
    counts: dict[str, int],
) -> dict[str, list[Invocation]]:
    """Schemas, then the references between objects (all of them when `complete`)."""
    for obj in objects:
        for version in k8s_versions():
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = "/".join(str(p) for p in error.path) or "(top level)"
                PROBLEMS.add(
                    f"{label}: {name_of(obj)}",
                    f"Kubernetes {version} schema: at {path}: {error.message}",
                )
            except (
                kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.VersionNotSupportedError,
            ) as error:
                PROBLEMS.add(f"{label}: {name_of(obj)}", error.message)
        counts["objects"] += 1

    config_maps = {
        o["metadata"]["name"]: o.get("data") or {} for o in objects if o.get("kind") == "ConfigMap"
    }
    secrets = {
        o["metadata"]["name"]: o.get("data") or {} for o in objects if o.get("kind") == "Secret"
    }
    workloads = [o for o in objects if list(pod_specs(o))]
    names = [name_of(o) for o in objects]
    for duplicate in {n for n in names if names.count(n) > 1}:
        PROBLEMS.add(label, f"{duplicate} is defined twice")

    def key_exists(
        kind: str, store: dict[str, dict[str, Any]], ref: dict[str, Any], here: str
    ) -> None:
        if ref.get("name") not in store:
            if complete or kind == "ConfigMap":
                PROBLEMS.add(here, f"refers to {kind} {ref.get('name')!r}, which is not rendered")
        elif ref.get("key") not in store[ref["name"]]:
            PROBLEMS.add(
                here, f"refers to key {ref.get('key')!r} of {kind} {ref['name']}, which it lacks"
            )

    runs_by_workload: dict[str, list[Invocation]] = {}
    for obj in workloads:
        here = f"{label}: {name_of(obj)}"
        spec = obj.get("spec") or {}
        template = (
            spec.get("template")
            or spec.get("jobTemplate", {}).get("spec", {}).get("template")
            or {}
        )
        labels = (template.get("metadata") or {}).get("labels") or {}
        selector = (spec.get("selector") or {}).get("matchLabels")
        if selector is not None and any(labels.get(k) != v for k, v in selector.items()):
            PROBLEMS.add(here, "spec.selector does not match the pod template's labels")
        for pod in pod_specs(obj):
            volumes = {v["name"]: v for v in pod.get("volumes") or []}
            for volume in volumes.values():
                if "secret" in volume:
                    secret = volume["secret"]
                    for item in secret.get("items") or []:
                        key_exists(
                            "Secret",
                            secrets,
                            {"name": secret.get("secretName"), "key": item["key"]},
                            here,
                        )
                if "configMap" in volume:
                    for item in volume["configMap"].get("items") or []:
                        key_exists(
                            "ConfigMap",
                            config_maps,
                            {"name": volume["configMap"].get("name"), "key": item["key"]},
                            here,
                        )
            for container in pod.get("initContainers", []) + pod.get("containers", []):
                chere = f"{here} container {container['name']}"
                for mount in container.get("volumeMounts") or []:
                    if mount["name"] not in volumes:
                        PROBLEMS.add(
                            chere, f"mounts volume {mount['name']!r}, which the pod does not define"
                        )
                env_names = []
                for env in container.get("env") or []:
                    env_names.append(env["name"])
                    source = env.get("valueFrom") or {}
                    if "secretKeyRef" in source:
                        key_exists("Secret", secrets, source["secretKeyRef"], chere)
                    if "configMapKeyRef" in source:
                        key_exists("ConfigMap", config_maps, source["configMapKeyRef"], chere)
                for env_from in container.get("envFrom") or []:
                    ref = env_from.get("configMapRef") or env_from.get("secretRef") or {}
                    env_names += list(
                        (
                            config_maps.get(ref.get("name")) or secrets.get(ref.get("name")) or {}
                        ).keys()
                    )
                if "parcelport" not in split_image(container.get("image", ""))[0]:
                    continue
                argv = [
                    str(a) for a in (container.get("command") or []) + (container.get("args") or [])
                ]
                runs = check_command_line(chere, argv, env_names, binaries, counts)
                runs_by_workload[obj["metadata"]["name"]] = runs
                ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
                for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                    probe = (container.get(probe_name) or {}).get("httpGet")
                    if not probe:
                        continue
                    port = probe.get("port")
                    number = ports.get(port) if isinstance(port, str) else port
                    if number is None:
                        PROBLEMS.add(
                            chere,
                            f"{probe_name} uses port {port!r}, which the container does not declare",
                        )
                    for run in runs:
                        if not binaries[run.binary].serves(probe["path"]):
                            PROBLEMS.add(
                                chere,
                                f"{probe_name} asks {probe['path']}, which {run.binary} does not serve",
                            )
                        if number is not None and listen_port(run) not in (None, number):
                            PROBLEMS.add(
                                chere,
                                f"{probe_name} asks port {number}, but {run.binary} listens on {run.value('listen')}",
                            )
                for run in runs:
                    binary = binaries[run.binary]
                    readiness = ((container.get("readinessProbe") or {}).get("httpGet") or {}).get(
                        "path"
                    )
                    if binary.serves("/readyz") and readiness != "/readyz":
                        PROBLEMS.add(
                            chere,
                            f"{run.binary} serves /readyz; its readinessProbe should ask it (asks {readiness})",
                        )
                    if (
                        obj.get("kind") == "Deployment"
                        and binary.serves("/healthz")
                        and not container.get("livenessProbe")
                    ):
                        PROBLEMS.add(
                            chere, f"{run.binary} serves /healthz but has no livenessProbe"
                        )
                    if obj.get("kind") == "Deployment" and "resources" not in container:
                        PROBLEMS.add(chere, "no resource requests and limits")
                    if run.binary == "parcelport-projector" and spec.get("replicas", 1) < 2:
                        PROBLEMS.add(
                            here,
                            "runs one projector for its view: run two, one applies and the "
                            "other stands by on the view's lease and takes over when it dies",
                        )
                if complete:
                    _, tag, digest = split_image(container["image"])
                    if not (tag or digest) or tag == "latest":
                        PROBLEMS.add(
                            chere, f"image {container['image']} is not pinned to a tag or digest"
                        )

    for obj in objects:
        here = f"{label}: {name_of(obj)}"
        kind = obj.get("kind")
        if kind not in ("Service", "PodDisruptionBudget"):
            continue
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        if kind == "PodDisruptionBudget":
            selector = selector.get("matchLabels") or {}
        selected = [
            w
            for w in workloads
            if w.get("kind") == "Deployment"
            and all(
                (w["spec"]["template"]["metadata"].get("labels") or {}).get(k) == v
                for k, v in selector.items()
            )
        ]
        if not selected:
            PROBLEMS.add(here, "selects no pods of any Deployment")
            continue
        if kind == "Service":
            declared = {
                p.get("name")
                for w in selected
                for c in w["spec"]["template"]["spec"]["containers"]
                for p in c.get("ports") or []
            }
            for port in spec.get("ports") or []:
                target = port.get("targetPort")
                if isinstance(target, str) and target not in declared:
                    PROBLEMS.add(
                        here, f"targetPort {target!r} is no named port of the selected pods"
                    )
        else:
            minimum = spec.get("minAvailable")
            for workload in selected:
                replicas = workload["spec"].get("replicas", 1)
                if isinstance(minimum, int) and minimum >= replicas:
                    PROBLEMS.add(
                        here,
                        f"minAvailable {minimum} with {replicas} replicas of {name_of(workload)} "
                        "blocks every node drain",
                    )
    return runs_by_workload


def check_kubernetes(
    binaries: dict[str, Binary], counts: dict[str, int]
) -> tuple[dict[str, list[Invocation]], dict[str, Any]]:
    rendered: dict[str, Any] = {}
    overlay_runs: dict[str, list[Invocation]] = {}
    for directory, complete in ((K8S_BASE, False), (K8S_OVERLAY, True)):
        label = rel(directory)
        try:
            objects = kustomize_build(directory)
        except (RenderError, OSError, yaml.YAMLError, KeyError, TypeError) as error:
            PROBLEMS.add(label, f"cannot render: {error}")
            continue
        rendered[label] = objects
        runs = check_rendered(label, objects, complete, binaries, counts)
        if complete:
            overlay_runs = runs
            namespaces = {o["metadata"].get("namespace") for o in objects}
            if namespaces == {None}:
                PROBLEMS.add(label, "the overlay sets no namespace")
    return overlay_runs, rendered


# --- 3. The NATS Helm chart's values --------------------------------------------------------------


def check_values_keys(values: Any, defaults: Any, path: str) -> None:
    if not isinstance(values, dict):
        return
    if not isinstance(defaults, dict):
        PROBLEMS.add(rel(NATS_VALUES), f"{path} is a scalar in the chart, not a map")
        return
    for key, value in values.items():
        here = f"{path}.{key}" if path else key
        if key not in defaults:
            PROBLEMS.add(
                rel(NATS_VALUES),
                f"{here} is not a value of the NATS chart (see {rel(NATS_CHART_DEFAULTS)})",
            )
            continue
        default = defaults[key]
        if default is None or default == {}:
            continue  # free-form below (merge, topologySpreadConstraints, unset scalars)
        check_values_keys(value, default, here)


def check_nats_values(rendered: dict[str, Any], compose_nats_image: str | None) -> None:
    where = rel(NATS_VALUES)
    values = load_yaml(NATS_VALUES)
    defaults = load_yaml(NATS_CHART_DEFAULTS)
    check_values_keys(values, defaults, "")
    config = values.get("config") or {}
    cluster = config.get("cluster") or {}
    jetstream = config.get("jetstream") or {}
    if cluster.get("enabled") is not True or cluster.get("replicas") != 3:
        PROBLEMS.add(where, "config.cluster must be enabled with 3 replicas")
    if jetstream.get("enabled") is not True:
        PROBLEMS.add(where, "config.jetstream must be enabled")
    file_store = jetstream.get("fileStore") or {}
    if file_store.get("enabled") is False or (file_store.get("pvc") or {}).get("enabled") is False:
        PROBLEMS.add(where, "JetStream must keep its file store on a persistent volume")
    tag = str(((values.get("container") or {}).get("image") or {}).get("tag", ""))
    line = re.match(r"(\d+\.\d+)", (compose_nats_image or ":").split(":", 1)[1])
    compose_line = line.group(1) if line else "?"
    if compose_nats_image and not tag.startswith(f"{compose_line}."):
        PROBLEMS.add(
            where,
            f"container.image.tag {tag!r} is not the {compose_line} line that "
            f"deploy/compose.yaml runs ({compose_nats_image})",
        )
    for label, objects in rendered.items():
        for obj in objects:
            if obj.get("kind") == "ConfigMap" and "PARCELPORT_RELAY_STREAM_REPLICAS" in (
                obj.get("data") or {}
            ):
                replicas = obj["data"]["PARCELPORT_RELAY_STREAM_REPLICAS"]
                if str(replicas) != str(cluster.get("replicas")):
                    PROBLEMS.add(
                        f"{label}: {name_of(obj)}",
                        f"PARCELPORT_RELAY_STREAM_REPLICAS is {replicas}, but the NATS cluster has "
                        f"{cluster.get('replicas')} nodes",
                    )


# --- 4. The image and the views ---------------------------------------------------------------------


def check_dockerfile(binaries: dict[str, Binary], used: set[str]) -> None:
    where = rel(DOCKERFILE)
    text = DOCKERFILE.read_text(encoding="utf-8")
    built = set(re.findall(r"--bin\s+(\S+)", text))
    for name in sorted(set(binaries) - built):
        PROBLEMS.add(where, f"does not build {name} (the image carries every parcelport binary)")
    for name in sorted(used - built):
        PROBLEMS.add(where, f"the manifests run {name}, which the image does not build")
    if not re.search(r"cargo build --release --locked", text):
        PROBLEMS.add(where, "the binaries are not built with `cargo build --release --locked`")
    users = re.findall(r"(?m)^USER\s+(\S+)", text)
    if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
        PROBLEMS.add(where, "the image must end as a numeric non-root USER")
    if len(re.findall(r"(?m)^FROM\s", text)) < 2:
        PROBLEMS.add(where, "not a multi-stage build")
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").split() if DOCKERIGNORE.exists() else []
    for needed in ("target/", "deploy/"):
        if needed not in ignored:
            PROBLEMS.add(rel(DOCKERIGNORE), f"does not keep {needed} out of the build context")


def check_views(
    compose_runs: dict[str, list[Invocation]] | None,
    k8s_runs: dict[str, list[Invocation]] | None,
) -> None:
    """Each view the code has runs exactly once in each manifest (skipped for a manifest that
    could not be read: its failure is reported already)."""
    views = projector_views()
    for label, runs_by in ((rel(COMPOSE_FILE), compose_runs), (rel(K8S_OVERLAY), k8s_runs)):
        if runs_by is None:
            continue
        fed = [
            run.value("view")
            for runs in runs_by.values()
            for run in runs
            if run.binary == "parcelport-projector"
        ]
        for view in sorted(views - set(fed)):
            PROBLEMS.add(
                label, f"no projector runs the view {view!r} (services/projector/src/lib.rs has it)"
            )
        for view in sorted({v for v in fed if fed.count(v) > 1}):
            PROBLEMS.add(label, f"the view {view!r} has more than one projector")
        for view in sorted(set(fed) - views):
            PROBLEMS.add(label, f"a projector runs the view {view!r}, which the code does not have")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--render",
        metavar="DIR",
        type=Path,
        help="print the objects this renderer builds from the kustomization in DIR, and stop",
    )
    args = parser.parse_args()
    if args.render:
        global PLACEHOLDERS_FOR_MISSING_FILES
        PLACEHOLDERS_FOR_MISSING_FILES = False
        try:
            objects = kustomize_build(args.render.resolve())
        except (RenderError, OSError, yaml.YAMLError) as error:
            print(f"validate-deploy: FAIL {error}", file=sys.stderr)
            return 1
        print(yaml.safe_dump_all(objects, sort_keys=False), end="")
        return 0
    counts = {"flags": 0, "subcommands": 0, "env": 0, "objects": 0}
    binaries = read_binaries()
    compose_runs, nats_image = check_compose(binaries, counts)
    k8s_runs, rendered = check_kubernetes(binaries, counts)
    check_nats_values(rendered, nats_image)
    used = {
        run.binary for runs in list(compose_runs.values()) + list(k8s_runs.values()) for run in runs
    }
    check_dockerfile(binaries, used)
    check_views(
        compose_runs if compose_runs else None,
        k8s_runs if rel(K8S_OVERLAY) in rendered else None,
    )

    for note in PROBLEMS.notes:
        print(f"validate-deploy: note: {note}")
    if PROBLEMS.items:
        for item in PROBLEMS.items:
            print(f"validate-deploy: FAIL {item}", file=sys.stderr)
        print(f"validate-deploy: {len(PROBLEMS.items)} problem(s) in deploy/", file=sys.stderr)
        return 1
    print(
        f"validate-deploy: OK: {rel(COMPOSE_FILE)} against the Compose schema; "
        f"{counts['objects']} Kubernetes objects ({', '.join(rendered)}) against Kubernetes "
        f"{' and '.join(k8s_versions())} (strict); {rel(NATS_VALUES)} against the chart's values; "
        f"{counts['flags']} flags, {counts['subcommands']} subcommands and {counts['env']} "
        f"environment variables against the clap definitions of {len(binaries)} binaries"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
