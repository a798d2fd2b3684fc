#!/usr/bin/env python3
"""A Terraform provider plugin that serves a committed hashicorp/aws schema, so that real Terraform core can
`init`, `validate` and `plan` a module against a provider release whose binary is not on this machine.

Usage (Terraform starts it; tests/engine/conftest.py installs it in a filesystem mirror):
    schema_provider.py --schema tests/data/provider-schema/aws-6.9.0.json
                       --provider-block tests/data/provider-schema/aws-5.100.0.json

It speaks plugin protocol 6 (tfplugin6.5 messages from the `tfplugin-proto-all` package, gRPC from `grpcio`)
after go-plugin's handshake line, in plaintext (Terraform must run with TF_DISABLE_PLUGIN_TLS=1).

What it does, and does not:
- GetProviderSchema: the resource and data source schemas of the `--schema` file (trimmed from the real
  release's `terraform providers schema -json`); the provider block's schema from `--provider-block`'s
  `provider_block` (the per-version 6.x dumps do not carry it; the 5.100.0 dump from the real binary does).
- Validate*: accepts every configuration Terraform core has already checked against the schema, and warns, as
  the real provider's SDK does, for each deprecated argument or block that is set.
- PlanResourceChange: the proposed new state with every computed attribute left null planned as unknown.
- ReadDataSource: the configuration with every computed attribute filled with a value of its type.
- No value checks of the real provider (ValidateFunc, plan modifiers), no apply, no API behaviour.
"""
import argparse
import json
import os
import signal
import sys
import threading
from concurrent import futures

import grpc
import msgpack
from tfplugin_proto import tfplugin6_5_pb2 as pb
from tfplugin_proto import tfplugin6_5_pb2_grpc as pb_grpc

# go-plugin's handshake: Terraform sets this cookie in the plugin's environment.
MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
CORE_PROTOCOL_VERSION = 1
APP_PROTOCOL_VERSION = 6

NESTING = {
    "single": pb.Schema.NestedBlock.SINGLE,
    "list": pb.Schema.NestedBlock.LIST,
    "set": pb.Schema.NestedBlock.SET,
    "map": pb.Schema.NestedBlock.MAP,
    "group": pb.Schema.NestedBlock.GROUP,
}


class Unknown:
    """cty's unknown value (msgpack extension 0); refinements, if Terraform sends any, are dropped."""

    def __eq__(self, other):
        return isinstance(other, Unknown)


UNKNOWN = Unknown()


def decode(dynamic_value) -> object:
    """A tfplugin6 DynamicValue (msgpack, or JSON for old state) as Python values with `UNKNOWN`."""
    if dynamic_value.msgpack:
        return msgpack.unpackb(
            dynamic_value.msgpack, raw=False, strict_map_key=False, ext_hook=lambda code, data: UNKNOWN
        )
    if dynamic_value.json:
        return json.loads(dynamic_value.json)
    return None


def encode(value) -> pb.DynamicValue:
    """Python values (with `UNKNOWN`) as a msgpack DynamicValue, as cty encodes them."""

    def default(obj):
        if isinstance(obj, Unknown):
            return msgpack.ExtType(0, b"\x00")
        raise TypeError(f"cannot encode {obj!r}")

    return pb.DynamicValue(msgpack=msgpack.packb(value, default=default, use_bin_type=True))


def block_message(block: dict, version: int = 0) -> pb.Schema.Block:
    """A trimmed schema block (tests/data/provider-schema) as a tfplugin6 Schema.Block."""
    attributes = []
    for name, attribute in sorted(block.get("attributes", {}).items()):
        if attribute.get("write_only"):
            raise SystemExit(f"attribute {name} is write-only: tfplugin6.5 cannot describe it")
        attributes.append(
            pb.Schema.Attribute(
                name=name,
                type=json.dumps(attribute["type"], separators=(",", ":")).encode(),
                required=attribute.get("required", False),
                optional=attribute.get("optional", False),
                computed=attribute.get("computed", False),
                sensitive=attribute.get("sensitive", False),
                deprecated=attribute.get("deprecated", False),
            )
        )
    block_types = []
    for name, nested in sorted(block.get("block_types", {}).items()):
        block_types.append(
            pb.Schema.NestedBlock(
                type_name=name,
                block=block_message(nested["block"]),
                nesting=NESTING[nested["nesting_mode"]],
                min_items=nested.get("min_items", 0),
                max_items=nested.get("max_items", 0),
            )
        )
    return pb.Schema.Block(
        version=version,
        attributes=attributes,
        block_types=block_types,
        deprecated=block.get("deprecated", False),
    )


def placeholder(cty_type, name: str):
    """A known value of a cty type, for a computed attribute a data source returns."""
    if cty_type == "string":
        if name in ("json", "minified_json", "policy"):
            return '{"Version":"2012-10-17","Statement":[]}'
        return {
            "account_id": "123456789012",
            "partition": "aws",
            "region": "us-east-1",
            "dns_suffix": "amazonaws.com",
            "reverse_dns_prefix": "com.amazonaws",
        }.get(name, f"placeholder-{name}")
    if cty_type == "number":
        return 0
    if cty_type == "bool":
        return False
    if cty_type == "dynamic":
        raise SystemExit(f"attribute {name} is of dynamic type: no placeholder")
    kind, element = cty_type[0], cty_type[1]
    if kind in ("list", "set"):
        return []
    if kind == "map":
        return {}
    if kind == "object":
        return {key: placeholder(t, key) for key, t in element.items()}
    if kind == "tuple":
        return [placeholder(t, name) for t in element]
    raise SystemExit(f"attribute {name}: unknown type {cty_type!r}")


def fill_computed(block: dict, value: dict | None, fill) -> dict | None:
    """`value` (an object of `block`'s type) with each computed attribute that is null replaced by
    `fill(type, name)`, in nested blocks too."""
    if value is None or isinstance(value, Unknown):
        return value
    out = dict(value)
    for name, attribute in block.get("attributes", {}).items():
        if attribute.get("computed") and out.get(name) is None:
            out[name] = fill(attribute["type"], name)
    for name, nested in block.get("block_types", {}).items():
        inner, current = nested["block"], out.get(name)
        if current is None or isinstance(current, Unknown):
            continue
        if nested["nesting_mode"] in ("list", "set"):
            out[name] = [fill_computed(inner, item, fill) for item in current]
        elif nested["nesting_mode"] == "map":
            out[name] = {key: fill_computed(inner, item, fill) for key, item in current.items()}
        else:
            out[name] = fill_computed(inner, current, fill)
    return out


def deprecation_warnings(block: dict, value, path: list) -> list:
    """A warning for each deprecated attribute or block that the configuration sets, as the SDK gives."""
    warnings = []
    if value is None or isinstance(value, Unknown):
        return warnings
    for name, attribute in block.get("attributes", {}).items():
        if attribute.get("deprecated") and value.get(name) is not None:
            warnings.append(warning("Argument is deprecated", f"`{name}` is deprecated.", path + [name]))
    for name, nested in block.get("block_types", {}).items():
        current = value.get(name)
        if current is None or isinstance(current, Unknown) or current in ([], {}):
            continue
        if nested["block"].get("deprecated"):
            warnings.append(warning("Block is deprecated", f"`{name}` is deprecated.", path + [name]))
        items = current.values() if isinstance(current, dict) and nested["nesting_mode"] == "map" else current
        if nested["nesting_mode"] in ("single", "group"):
            items = [current]
        for item in items:
            warnings.extend(deprecation_warnings(nested["block"], item, path + [name]))
    return warnings


def warning(summary: str, detail: str, path: list) -> pb.Diagnostic:
    steps = [pb.AttributePath.Step(attribute_name=step) for step in path]
    return pb.Diagnostic(
        severity=pb.Diagnostic.WARNING,
        summary=summary,
        detail=detail,
        attribute=pb.AttributePath(steps=steps),
    )


def error(summary: str) -> pb.Diagnostic:
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary)


class SchemaProvider(pb_grpc.ProviderServicer):
    """The tfplugin6 Provider service, backed by a trimmed schema file."""

    def __init__(self, schema: dict, provider_block: dict, stop: threading.Event):
        self.resources = schema["resource_schemas"]
        self.data_sources = schema["data_source_schemas"]
        self.provider_block = provider_block
        self.stop = stop

    def GetMetadata(self, request, context):
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(plan_destroy=True),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=t) for t in sorted(self.resources)],
            data_sources=[pb.GetMetadata.DataSourceMetadata(type_name=t) for t in sorted(self.data_sources)],
        )

    def GetProviderSchema(self, request, context):
        def schemas(section):
            return {t: pb.Schema(version=s.get("version", 0), block=block_message(s["block"], s.get("version", 0)))
                    for t, s in section.items()}

        return pb.GetProviderSchema.Response(
            provider=pb.Schema(block=block_message(self.provider_block)),
            resource_schemas=schemas(self.resources),
            data_source_schemas=schemas(self.data_sources),
            server_capabilities=pb.ServerCapabilities(plan_destroy=True),
        )

    def ValidateProviderConfig(self, request, context):
        return pb.ValidateProviderConfig.Response(
            diagnostics=deprecation_warnings(self.provider_block, decode(request.config), [])
        )

    def ValidateResourceConfig(self, request, context):
        block = self.resources[request.type_name]["block"]
        return pb.ValidateResourceConfig.Response(diagnostics=deprecation_warnings(block, decode(request.config), []))

    def ValidateDataResourceConfig(self, request, context):
        block = self.data_sources[request.type_name]["block"]
        return pb.ValidateDataResourceConfig.Response(
            diagnostics=deprecation_warnings(block, decode(request.config), [])
        )

    def ConfigureProvider(self, request, context):
        return pb.ConfigureProvider.Response()

    def PlanResourceChange(self, request, context):
        block = self.resources[request.type_name]["block"]
        proposed = decode(request.proposed_new_state)
        if proposed is None:  # destroy
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        if decode(request.prior_state) is not None:
            return pb.PlanResourceChange.Response(
                diagnostics=[error("schema_provider plans creations only: it never applies, so there is no state")]
            )
        planned = fill_computed(block, proposed, lambda _type, _name: UNKNOWN)
        return pb.PlanResourceChange.Response(planned_state=encode(planned))

    def ReadDataSource(self, request, context):
        block = self.data_sources[request.type_name]["block"]
        state = fill_computed(block, decode(request.config), placeholder)
        return pb.ReadDataSource.Response(state=encode(state))

    def ApplyResourceChange(self, request, context):
        return pb.ApplyResourceChange.Response(
            diagnostics=[error("schema_provider serves a schema for validate and plan; it cannot apply")]
        )

    def StopProvider(self, request, context):
        return pb.StopProvider.Response()


def controller_shutdown(stop: threading.Event):
    """go-plugin's GRPCController.Shutdown (an Empty in, an Empty out: zero bytes each way)."""

    def shutdown(request, context):
        stop.set()
        return b""

    handler = grpc.unary_unary_rpc_method_handler(
        shutdown, request_deserializer=lambda data: data, response_serializer=lambda data: data
    )
    return grpc.method_handlers_generic_handler("plugin.GRPCController", {"Shutdown": handler})


def stop_when_orphaned(stop: threading.Event) -> None:
    """Stops the plugin if Terraform goes away without saying so (its process is the parent)."""
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", required=True, help="a trimmed schema file (resource and data source schemas)")
    parser.add_argument("--provider-block", required=True, help="a trimmed schema file with a provider_block")
    args = parser.parse_args()
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.exit("This binary is a Terraform provider plugin: Terraform starts it, it is not run directly.")
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(APP_PROTOCOL_VERSION)).split(",")
    if str(APP_PROTOCOL_VERSION) not in versions:
        sys.exit(f"Terraform asks for plugin protocol {versions}; this plugin speaks {APP_PROTOCOL_VERSION}")
    if os.environ.get("PLUGIN_CLIENT_CERT"):
        sys.exit("Terraform asks for mTLS: run it with TF_DISABLE_PLUGIN_TLS=1 for this plaintext plugin")
    with open(args.schema) as f:
        schema = json.load(f)
    with open(args.provider_block) as f:
        provider_block = json.load(f)["provider_block"]

    stop = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_ProviderServicer_to_server(SchemaProvider(schema, provider_block, stop), server)
    server.add_generic_rpc_handlers((controller_shutdown(stop),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Terraform forwards Ctrl-C itself and then asks for StopProvider/Shutdown: ignore SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|127.0.0.1:{port}|grpc", flush=True)
    threading.Thread(target=stop_when_orphaned, args=(stop,), daemon=True).start()
    stop.wait()
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
