"""braid's copy of TensorFlow Serving's wire protos (proto/tensorflow_serving,
proto/tensorflow/core/protobuf, proto/xla) against the official ones of the
tensorflow-serving-api package and TensorFlow: same files, packages, message,
enum and service names, field numbers, types, labels, map-ness and oneofs, so
that TF Serving's own clients (gRPC, and text configs) work with braid's model
server unchanged.

braid's side is the descriptor set the build writes,
${BRAID_BUILD_DIR:-build}/proto/tensorflow_serving_descriptors.pb (target
braid_serving_descriptors). Run in the project's venv:
scripts/venv.sh && .venv/bin/pytest -q tests/compat/test_serving_protos.py
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory  # noqa: E402
from google.protobuf import text_format  # noqa: E402
from tensorflow.core.framework import tensor_pb2, types_pb2  # noqa: E402
from tensorflow.core.protobuf import error_codes_pb2, meta_graph_pb2  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    classification_pb2, get_model_metadata_pb2, get_model_status_pb2, inference_pb2,
    input_pb2, model_management_pb2, model_pb2, model_service_pb2, predict_pb2,
    prediction_service_pb2, regression_pb2, status_pb2)
from tensorflow_serving.config import (  # noqa: E402
    file_system_storage_path_source_pb2, log_collector_config_pb2, logging_config_pb2,
    model_server_config_pb2)

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
DESCRIPTORS = BUILD / "proto" / "tensorflow_serving_descriptors.pb"

Field = descriptor_pb2.FieldDescriptorProto

OFFICIAL_MODULES = [
    model_pb2, predict_pb2, get_model_metadata_pb2, get_model_status_pb2, status_pb2,
    model_management_pb2, model_service_pb2, prediction_service_pb2, classification_pb2,
    regression_pb2, input_pb2, inference_pb2, model_server_config_pb2,
    file_system_storage_path_source_pb2, logging_config_pb2, log_collector_config_pb2,
    meta_graph_pb2, error_codes_pb2,
]

# What braid defines that is checked: TF Serving's package, TensorFlow's error
# codes, the two meta_graph messages, and every type these reach (TensorProto,
# Example, ...), which must match TensorFlow too.
CHECKED_PACKAGES = (".tensorflow.serving.", ".tensorflow.error.")
CHECKED_ROOTS = (".tensorflow.TensorInfo", ".tensorflow.SignatureDef")

# The files this test holds braid to in full: every official field and enum
# value must be there (but for OMITTED). Other types the serving messages reach
# (TensorProto, DataType, Example, ...) live in braid's older protos, which
# carry a subset of TensorFlow's (DataType without the float8/int4 and _REF
# types, TensorProto without float8_val): for those, what braid defines must
# match, and what it leaves out is allowed.
def held_complete(file):
    return file.startswith(("tensorflow_serving/", "xla/tsl/protobuf/error_codes")) or \
        file == "tensorflow/core/protobuf/meta_graph.proto"


# Official fields braid leaves out on purpose (each is listed in its .proto).
OMITTED = {
    ".tensorflow.TensorInfo": {"composite_tensor"},
}
# Official types braid leaves out on purpose (reachable only through OMITTED).
OMITTED_TYPES = {".tensorflow.TensorInfo.CompositeTensor"}

# The messages the model server reads or writes: each must be in braid's set.
SERVER_MESSAGES = [
    "ModelSpec", "PredictRequest", "PredictResponse", "GetModelMetadataRequest",
    "GetModelMetadataResponse", "SignatureDefMap", "GetModelStatusRequest",
    "GetModelStatusResponse", "ModelVersionStatus", "ClassificationRequest",
    "ClassificationResponse", "RegressionRequest", "RegressionResponse", "Input",
    "ExampleList", "ExampleListWithContext", "ModelServerConfig", "ModelConfig",
    "ModelConfigList", "FileSystemStoragePathSourceConfig.ServableVersionPolicy",
    "BatchingParameters", "ReloadConfigRequest", "ReloadConfigResponse", "StatusProto",
]

# BatchingParameters is not in the tensorflow-serving-api wheel (nor in
# TensorFlow), so its reference is transcribed here from TF Serving's
# tensorflow_serving/servables/tensorflow/session_bundle_config.proto:
# name -> (number, type, label, type_name).
_OPT, _REP = Field.LABEL_OPTIONAL, Field.LABEL_REPEATED
BATCHING_PARAMETERS = {
    "max_batch_size": (1, Field.TYPE_MESSAGE, _OPT, ".google.protobuf.Int64Value"),
    "batch_timeout_micros": (2, Field.TYPE_MESSAGE, _OPT, ".google.protobuf.Int64Value"),
    "max_enqueued_batches": (3, Field.TYPE_MESSAGE, _OPT, ".google.protobuf.Int64Value"),
    "num_batch_threads": (4, Field.TYPE_MESSAGE, _OPT, ".google.protobuf.Int64Value"),
    "thread_pool_name": (5, Field.TYPE_MESSAGE, _OPT, ".google.protobuf.StringValue"),
    "allowed_batch_sizes": (6, Field.TYPE_INT64, _REP, ""),
    "pad_variable_length_inputs": (7, Field.TYPE_BOOL, _OPT, ""),
}
BATCHING_PARAMETERS_FILE = "tensorflow_serving/servables/tensorflow/session_bundle_config.proto"


class Index:
    """Messages, enums and services of some files, by full name (".pkg.Name")."""

    def __init__(self, files):
        self.files = {f.name: f for f in files}
        self.messages, self.enums, self.services, self.file_of = {}, {}, {}, {}
        for f in files:
            prefix = "." + f.package if f.package else ""
            for m in f.message_type:
                self._add_message(f.name, prefix, m)
            for e in f.enum_type:
                self._add(self.enums, f.name, f"{prefix}.{e.name}", e)
            for s in f.service:
                self._add(self.services, f.name, f"{prefix}.{s.name}", s)

    def _add(self, table, file, name, proto):
        assert name not in table, f"{name} defined twice ({file}, {self.file_of[name]})"
        table[name] = proto
        self.file_of[name] = file

    def _add_message(self, file, prefix, m):
        name = f"{prefix}.{m.name}"
        self._add(self.messages, file, name, m)
        for n in m.nested_type:
            self._add_message(file, name, n)
        for e in m.enum_type:
            self._add(self.enums, file, f"{name}.{e.name}", e)

    def is_map(self, field):
        entry = self.messages.get(field.type_name)
        return bool(entry and entry.options.map_entry)


def official_files():
    """FileDescriptorProtos of the official modules and all they import."""
    seen, out = set(), []

    def visit(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            visit(dep)
        out.append(descriptor_pb2.FileDescriptorProto.FromString(fd.serialized_pb))

    for module in OFFICIAL_MODULES:
        visit(module.DESCRIPTOR)
    return out


@pytest.fixture(scope="module")
def ours_set():
    if not DESCRIPTORS.exists():
        pytest.fail(f"{DESCRIPTORS} not found: build the braid_serving_descriptors target "
                    "(scripts/build.sh) or set BRAID_BUILD_DIR")
    return descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes())


@pytest.fixture(scope="module")
def ours(ours_set):
    return Index(list(ours_set.file))


@pytest.fixture(scope="module")
def official():
    return Index(official_files())


@pytest.fixture(scope="module")
def checked(ours):
    """Full names of braid's types to compare: the roots and all they reach."""
    todo = [n for n in list(ours.messages) + list(ours.enums) + list(ours.services)
            if n.startswith(CHECKED_PACKAGES) or n.startswith(CHECKED_ROOTS)]
    done = set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        if name in ours.messages:
            refs = [f.type_name for f in ours.messages[name].field if f.type_name]
        elif name in ours.services:
            refs = [x for m in ours.services[name].method for x in (m.input_type, m.output_type)]
        else:
            refs = []
        todo.extend(r for r in refs if r in ours.messages or r in ours.enums)
    return done


def field_facts(index, f, oneofs):
    """What must agree between two declarations of one field."""
    oneof = oneofs[f.oneof_index].name if f.HasField("oneof_index") else None
    return {"number": f.number, "type": Field.Type.Name(f.type),
            "label": Field.Label.Name(f.label), "type_name": f.type_name,
            "map": index.is_map(f), "oneof": oneof, "proto3_optional": f.proto3_optional}


def compare_message(name, ours, official, complete):
    mine, theirs = ours.messages[name], official.messages[name]
    errors = []
    theirs_by_name = {f.name: f for f in theirs.field}
    for f in mine.field:
        t = theirs_by_name.get(f.name)
        if t is None:
            errors.append(f"{name}.{f.name} = {f.number}: no such field in TF Serving")
            continue
        a = field_facts(ours, f, mine.oneof_decl)
        b = field_facts(official, t, theirs.oneof_decl)
        for key in a:
            if a[key] != b[key]:
                errors.append(f"{name}.{f.name}: {key} is {a[key]!r}, TF Serving's is {b[key]!r}")
    mine_names = {f.name for f in mine.field}
    for t in theirs.field:
        if complete and t.name not in mine_names and t.name not in OMITTED.get(name, ()):
            errors.append(f"{name}.{t.name} = {t.number}: missing from braid's proto")
    return errors


def compare_enum(name, ours, official, complete):
    mine = {v.name: v.number for v in ours.enums[name].value}
    theirs = {v.name: v.number for v in official.enums[name].value}
    errors = [f"enum {name}: braid has {v} = {n}, TF Serving has {theirs.get(v)}"
              for v, n in mine.items() if theirs.get(v) != n]
    if complete:
        errors += [f"enum {name}: {v} = {n} missing from braid's proto"
                   for v, n in theirs.items() if v not in mine]
    return errors


def compare_service(name, ours, official):
    def methods(s):
        return {m.name: (m.input_type, m.output_type, m.client_streaming, m.server_streaming)
                for m in s.method}
    mine, theirs = methods(ours.services[name]), methods(official.services[name])
    return [f"service {name}: braid has {mine}, TF Serving has {theirs}"] if mine != theirs else []


def test_descriptor_set_holds_the_serving_files(ours):
    for module in OFFICIAL_MODULES:
        assert module.DESCRIPTOR.name in ours.files, module.DESCRIPTOR.name
    assert BATCHING_PARAMETERS_FILE in ours.files


def test_every_type_matches_tensorflow_serving(ours, official, checked):
    errors = []
    for name in sorted(checked):
        if name == ".tensorflow.serving.BatchingParameters":
            continue  # not in the wheel: test_batching_parameters
        if (name not in official.messages and name not in official.enums
                and name not in official.services):
            errors.append(f"{name}: no such type in TF Serving / TensorFlow")
            continue
        if ours.file_of[name] != official.file_of[name]:
            errors.append(f"{name}: in {ours.file_of[name]}, TF Serving's is in "
                          f"{official.file_of[name]}")
        complete = held_complete(ours.file_of[name])
        if name in ours.messages:
            errors += compare_message(name, ours, official, complete)
        elif name in ours.enums:
            errors += compare_enum(name, ours, official, complete)
        else:
            errors += compare_service(name, ours, official)
    assert not errors, "\n".join(errors)
    assert len(checked) > 60  # the walk found the serving types, not nothing


def test_every_official_type_of_the_serving_files_is_defined(ours, official):
    """Nothing TF Serving defines in the files braid mirrors (outside the
    documented subsets) is missing: messages, nested messages, enums, services."""
    missing = []
    for name, file in official.file_of.items():
        whole_file = held_complete(file) and file != "tensorflow/core/protobuf/meta_graph.proto"
        if whole_file or name.startswith(CHECKED_ROOTS):
            if name not in ours.file_of and name not in OMITTED_TYPES:
                missing.append(f"{name} ({file})")
    assert not missing, "missing from braid's protos:\n" + "\n".join(sorted(missing))


def test_server_messages_are_complete(ours):
    # test_every_type_matches_tensorflow_serving checks their fields; here,
    # that none of them was dropped.
    for short in SERVER_MESSAGES:
        assert f".tensorflow.serving.{short}" in ours.messages, short
    for name, fields in {".tensorflow.TensorInfo": {"name", "dtype", "tensor_shape"},
                         ".tensorflow.SignatureDef": {"inputs", "outputs", "method_name",
                                                      "defaults"}}.items():
        assert fields <= {f.name for f in ours.messages[name].field}, name
    assert ".tensorflow.error.Code" in ours.enums


def test_batching_parameters(ours):
    name = ".tensorflow.serving.BatchingParameters"
    assert ours.file_of[name] == BATCHING_PARAMETERS_FILE
    mine = {f.name: (f.number, f.type, f.label, f.type_name)
            for f in ours.messages[name].field}
    assert mine == BATCHING_PARAMETERS


# --- The same bytes through both: official message -> wire -> braid's -> wire.

@pytest.fixture(scope="module")
def braid_classes(ours_set):
    pool = descriptor_pool.DescriptorPool()
    for f in ours_set.file:  # --include_imports writes dependencies first
        pool.Add(f)

    def cls(full_name):
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
    return cls


def tensor(values, dtype=types_pb2.DT_FLOAT):
    t = tensor_pb2.TensorProto(dtype=dtype)
    t.tensor_shape.dim.add(size=len(values))
    t.float_val.extend(values)
    return t


def round_trip(official_message, braid_classes):
    ours = braid_classes(official_message.DESCRIPTOR.full_name)()
    ours.ParseFromString(official_message.SerializeToString(deterministic=True))
    back = type(official_message)()
    back.ParseFromString(ours.SerializeToString(deterministic=True))
    assert back == official_message
    # Same field names too, and nothing left unknown to braid: the text forms
    # (which leave unknown fields out) agree.
    assert text_format.MessageToString(ours) == text_format.MessageToString(official_message)
    return ours


def test_predict_round_trip(braid_classes):
    request = predict_pb2.PredictRequest(output_filter=["scores"])
    request.model_spec.name = "mnist"
    request.model_spec.version.value = 3
    request.model_spec.signature_name = "serving_default"
    request.inputs["x"].CopyFrom(tensor([1.0, 2.0, 3.0]))
    ours = round_trip(request, braid_classes)
    assert ours.model_spec.WhichOneof("version_choice") == "version"
    assert ours.inputs["x"].float_val == [1.0, 2.0, 3.0]

    request.model_spec.version_label = "stable"
    assert round_trip(request, braid_classes).model_spec.WhichOneof("version_choice") == \
        "version_label"

    response = predict_pb2.PredictResponse()
    response.model_spec.name = "mnist"
    response.outputs["scores"].CopyFrom(tensor([0.25, 0.75]))
    round_trip(response, braid_classes)


def test_metadata_round_trip_with_any(braid_classes):
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    signature.inputs["x"].name = "x:0"
    signature.inputs["x"].dtype = types_pb2.DT_FLOAT
    signature.inputs["x"].tensor_shape.dim.add(size=-1)
    signature.outputs["y"].coo_sparse.values_tensor_name = "y/values:0"
    # braid packs the SignatureDefMap; the official client unpacks it.
    ours_map = braid_classes("tensorflow.serving.SignatureDefMap")()
    ours_map.signature_def["serving_default"].ParseFromString(signature.SerializeToString())
    packed = any_pb2.Any()
    packed.Pack(ours_map)
    assert packed.type_url == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = "m"
    response.metadata["signature_def"].CopyFrom(packed)
    theirs = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(theirs)
    assert theirs.signature_def["serving_default"] == signature
    round_trip(response, braid_classes)


def test_status_classify_regress_round_trip(braid_classes):
    status = get_model_status_pb2.GetModelStatusResponse()
    v = status.model_version_status.add(version=2, state=get_model_status_pb2.ModelVersionStatus.END)
    v.status.error_code = error_codes_pb2.NOT_FOUND
    v.status.error_message = "no such directory"
    round_trip(status, braid_classes)

    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "iris"
    example = request.input.example_list_with_context.examples.add()
    example.features.feature["petal"].float_list.value.append(1.5)
    request.input.example_list_with_context.context.features.feature["k"].bytes_list.value \
        .append(b"v")
    round_trip(request, braid_classes)
    response = classification_pb2.ClassificationResponse()
    response.result.classifications.add().classes.add(label="setosa", score=0.9)
    round_trip(response, braid_classes)

    regress = regression_pb2.RegressionResponse()
    regress.result.regressions.add(value=4.5)
    round_trip(regress, braid_classes)

    multi = inference_pb2.MultiInferenceRequest()
    multi.tasks.add(method_name="tensorflow/serving/regress").model_spec.name = "m"
    multi.input.example_list.examples.add()
    round_trip(multi, braid_classes)


CONFIG_TEXT = """
model_config_list {
  config {
    name: "mnist"
    base_path: "/models/mnist"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
    logging_config {
      log_collector_config { type: "" filename_prefix: "/tmp/log" }
      sampling_config { sampling_rate: 0.01 }
    }
  }
  config {
    name: "iris"
    base_path: "/models/iris"
    model_platform: "tensorflow"
    model_version_policy { latest { num_versions: 2 } }
  }
}
"""


def test_model_server_config_text_parses_the_same(braid_classes):
    theirs = text_format.Parse(CONFIG_TEXT, model_server_config_pb2.ModelServerConfig())
    ours = text_format.Parse(CONFIG_TEXT, braid_classes("tensorflow.serving.ModelServerConfig")())
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    reload = model_management_pb2.ReloadConfigRequest(config=theirs, metric_names=["m"])
    round_trip(reload, braid_classes)
    response = model_management_pb2.ReloadConfigResponse()
    response.status.error_code = error_codes_pb2.INVALID_ARGUMENT
    response.metric.add(name="m", int64_value_increase=1)
    round_trip(response, braid_classes)


def test_batching_parameters_text(braid_classes):
    # A --batching_parameters_file as TF Serving's docs write one.
    text = """
        max_batch_size { value: 32 }
        batch_timeout_micros { value: 500 }
        max_enqueued_batches { value: 100 }
        num_batch_threads { value: 4 }
        thread_pool_name { value: "batch_threads" }
        allowed_batch_sizes: 8
        allowed_batch_sizes: 32
        pad_variable_length_inputs: true
    """
    params = text_format.Parse(text, braid_classes("tensorflow.serving.BatchingParameters")())
    assert params.max_batch_size.value == 32
    assert list(params.allowed_batch_sizes) == [8, 32]
    assert params.pad_variable_length_inputs


def test_grpc_method_paths(ours):
    # What a gRPC client sends as :path; derived from package, service and method.
    paths = {f"/{name[1:]}/{m.name}" for name, s in ours.services.items()
             if name.startswith(".tensorflow.serving.") for m in s.method}
    assert paths == {
        "/tensorflow.serving.PredictionService/Classify",
        "/tensorflow.serving.PredictionService/Regress",
        "/tensorflow.serving.PredictionService/Predict",
        "/tensorflow.serving.PredictionService/MultiInference",
        "/tensorflow.serving.PredictionService/GetModelMetadata",
        "/tensorflow.serving.ModelService/GetModelStatus",
        "/tensorflow.serving.ModelService/HandleReloadConfigRequest",
    }
