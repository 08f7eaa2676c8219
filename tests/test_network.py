"""Networks: bundled nets load with the right shapes, bit tables apply, bad files fail with clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qmaestro.accelerator import Accelerator
from qmaestro.errors import InputError, PrecisionError
from qgamma.network import (BUNDLED_NETS_DIR, apply_bits, bit_configs, bundled_names, check_supported,
                            load_network, read_gamma_csv)

HAWQ = Path(__file__).resolve().parents[1] / "qgamma" / "data" / "hawq_v3_resnet18_bits.yaml"

#: torchvision output spatial size of each ResNet18 conv layer (224x224 input)
RESNET18_OUT = {"conv1": 112, "layer1": 56, "layer2": 28, "layer3": 14, "layer4": 7, "fc": 1}


def test_every_bundled_net_loads_and_names_its_source():
    names = bundled_names()
    for expected in ("resnet18_int8", "resnet18_int4", "resnet18_mixed", "vgg16", "alexnet", "mobilenet_v2",
                     "resnet50", "resnet34", "resnet20", "resnet56"):
        assert expected in names
    for name in names:
        net = load_network(name)
        assert net.layers and net.source and net.source != "unspecified", name
        assert len(set(net.layer_names)) == len(net.layers)


def test_resnet18_has_torchvision_layers_with_padding_folded_in():
    net = load_network("resnet18_int8")
    assert len(net.layers) == 21
    assert net.layer_names[0] == "conv1" and net.layer_names[-1] == "fc"
    assert [n for n in net.layer_names if "downsample" in n] == [
        "layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0"]
    for layer in net.layers:
        stage = layer.name.split(".")[0]
        assert layer.out_y == layer.out_x == RESNET18_OUT[stage], layer.name
    conv1 = net.layer("conv1")
    assert (conv1.R, conv1.Y, conv1.stride_y) == (7, 230, 2)
    assert net.layer("layer1.0.conv1").Y == 58  # 3x3 pad 1 on 56
    assert net.num_macs == 1_814_073_344  # torchvision's 1.81 GMACs
    assert {layer.precision.name for layer in net.layers} == {"int8"}
    assert {layer.precision.name for layer in load_network("resnet18_int4").layers} == {"int4"}


def test_mixed_file_equals_int8_with_hawq_latency_half():
    mixed = load_network("resnet18_mixed")
    derived = load_network("resnet18_int8", bits="hawq:latency_0.5")
    assert [layer.precision for layer in mixed.layers] == [layer.precision for layer in derived.layers]
    table = yaml.safe_load(HAWQ.read_text())["configs"]["latency_0.5"]
    for layer in mixed.layers:
        assert layer.precision.weights.bits == table[layer.name]["w"]
        assert layer.precision.activations.bits == table[layer.name]["a"]
    assert sum(layer.precision.weights.bits == 4 for layer in mixed.layers) == 7


def test_every_hawq_configuration_applies():
    configs = bit_configs("hawq")
    assert "bops_0.5" in configs and "latency_0.5" in configs and len(configs) == 11
    net = load_network("resnet18_int8")
    for c in configs:
        assert len(apply_bits(net, f"hawq:{c}").layers) == 21
    assert load_network("resnet18_int8", bits="hawq:bops_0.5").layer("layer1.1.conv2").precision.name == "int4"
    assert {lay.precision.name for lay in load_network("resnet20", bits="int4").layers} == {"int4"}


def test_bits_errors_are_clear():
    with pytest.raises(InputError, match="unknown bit configuration 'nope'"):
        load_network("resnet18_int8", bits="hawq:nope")
    with pytest.raises(InputError, match="no widths for layer"):
        load_network("vgg16", bits="hawq:latency_0.5")
    with pytest.raises(PrecisionError):
        load_network("resnet18_int8", bits="int3")


def test_mobilenet_has_depthwise_layers_and_cifar_nets_are_32x32():
    mb = load_network("mobilenet_v2")
    dw = [layer for layer in mb.layers if layer.type == "DSCONV"]
    assert len(dw) == 17 and all(layer.K == 1 and layer.R == 3 for layer in dw)
    assert mb.layers[-2].out_y == 7
    for name, convs in (("resnet20", 19), ("resnet56", 55)):
        net = load_network(name)
        assert net.layers[0].Y == 34 and len(net.layers) == convs + 1
        assert net.layers[-2].out_y == 8


def test_resolve_by_path_and_search_path(tmp_path, monkeypatch):
    path = BUNDLED_NETS_DIR / "alexnet.yaml"
    assert load_network(str(path)).layer_names == load_network("alexnet").layer_names
    (tmp_path / "tiny.yaml").write_text("name: tiny\nsource: test\nlayers:\n"
                                        "  - {name: a, K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4}\n")
    monkeypatch.setenv("QGAMMA_NETS", str(tmp_path))
    net = load_network("tiny")
    assert net.layer_names == ["a"] and net.layers[0].precision.name == "fp32"


def test_select_layers_keeps_network_order():
    net = load_network("resnet18_mixed").select(["fc", "conv1"])
    assert net.layer_names == ["conv1", "fc"]
    with pytest.raises(InputError, match="no layer 'nope'"):
        load_network("resnet18_mixed").select(["nope"])


@pytest.mark.parametrize("body, message", [
    ("layers: [", "malformed YAML"),
    ("name: x\nlayers: []\n", "layers must be a non-empty list"),
    ("name: x\nlayerz: []\n", "unknown field"),
    ("name: x\nlayers:\n  - {name: a, K: 0, C: 4, R: 1, S: 1, Y: 4, X: 4}\n", "K must be a positive integer"),
    ("name: x\nlayers:\n  - {name: a, K: -3, C: 4, R: 1, S: 1, Y: 4, X: 4}\n", "K must be a positive integer"),
    ("name: x\nlayers:\n  - {name: a, C: 4, R: 1, S: 1, Y: 4, X: 4}\n", "missing dimension"),
    ("name: x\nlayers:\n  - {name: a, K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4, precision: int3}\n", "int3"),
    ("name: x\nlayers:\n  - {name: a, K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4}\n"
     "  - {name: a, K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4}\n", "appears twice"),
    ("name: x\ndefaults: {precision: int8, batch: 2}\nlayers:\n  - {name: a, K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4}\n",
     "defaults may only set precision"),
])
def test_malformed_net_files_name_file_and_field(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(InputError) as err:
        load_network(str(path))
    assert message in err.value.one_line()
    assert str(path) in err.value.one_line()


def test_layer_errors_name_the_layer(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nlayers:\n  - {name: ok, K: 4, C: 4, R: 1, S: 1, Y: 4, X: 4}\n"
                    "  - {name: broken, K: 4, C: 4, R: 5, S: 5, Y: 4, X: 4}\n")
    with pytest.raises(InputError) as err:
        load_network(str(path))
    assert "layers[1]" in err.value.one_line() and "'broken'" in err.value.one_line()


def test_unknown_network_lists_known_names():
    with pytest.raises(InputError) as err:
        load_network("resnet19")
    assert "unknown network 'resnet19'" in err.value.one_line() and "resnet18_mixed" in err.value.one_line()
    with pytest.raises(InputError, match="not found"):
        load_network("/no/such/net.yaml")


def test_gamma_csv_import(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n1,32,112,112,3,3,2\n1000,512,1,1,1,1,0\n")
    net = read_gamma_csv(path)
    assert [layer.type for layer in net.layers] == ["CONV", "DSCONV", "CONV"]
    assert net.layers[0].Y == 224 and net.layers[1].K == 1 and net.layers[2].C == 512
    path.write_text("K,C,Y,X,R,S,T\n64,3,x,224,7,7,1\n")
    with pytest.raises(InputError, match="m.csv:2"):
        read_gamma_csv(path)


def test_maestro_model_import(tmp_path):
    path = tmp_path / "net.m"
    path.write_text("Network tiny {\nLayer c1 {\nType: CONV\nStride { X: 2, Y: 2 }\n"
                    "Dimensions { K: 8, C: 3, R: 3, S: 3, Y: 17, X: 17 }\n}\n"
                    "Layer c1 {\nType: DSCONV\nStride { X: 1, Y: 1 }\n"
                    "Dimensions { K: 1, C: 8, R: 3, S: 3, Y: 10, X: 10 }\n}\n}\n")
    net = load_network(str(path))
    assert net.name == "tiny" and net.layer_names == ["c1", "c1_2"]
    assert net.layers[0].stride_y == 2 and net.layers[1].type == "DSCONV"


def test_precision_support_is_checked_per_layer():
    acc = Accelerator.load("edge16")
    check_supported(load_network("resnet18_mixed"), acc)
    only_fp32 = Accelerator.from_dict({**acc.to_dict(), "name": "fp32only", "precisions": ["fp32"]})
    with pytest.raises(PrecisionError) as err:
        check_supported(load_network("resnet18_mixed"), only_fp32)
    assert "conv1" in err.value.one_line() and "int8" in err.value.one_line()


def test_bundled_accelerators_name_their_source():
    for name in ("edge16", "edge64", "acc256", "eyeriss168"):
        acc = Accelerator.load(name)
        data = yaml.safe_load((Path(__file__).resolve().parents[1] / "qmaestro" / "accelerators"
                               / f"{name}.yaml").read_text())
        assert data.get("source"), name
        assert acc.l1_bytes == 512
    eyeriss = Accelerator.load("eyeriss168")
    assert eyeriss.num_pes == 168 and eyeriss.l2_bytes == 108 * 1024
    assert Accelerator.load("acc256").num_pes == 256
