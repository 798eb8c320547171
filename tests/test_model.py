"""Model sizes, FLOPs, shapes and the errors a user gets for bad input."""
import pytest
import torch

import swin_edu as se


def _params(model):
    return sum(p.numel() for p in model.parameters())


def _meta(factory):
    """Shapes, parameter counts and flops() without allocating or initialising the weights."""
    with torch.device("meta"):
        return factory()


def test_swin_t_parameter_count():
    assert _params(_meta(se.swin_t)) == _params(se.swin_t()) == 28_288_354  # meta and CPU build the same model


@pytest.mark.parametrize("factory,macs", [(se.swin_t, 4.49e9), (se.swin_s, 8.75e9), (se.swin_b, 15.44e9)])
def test_flops_match_the_paper(factory, macs):
    assert abs(_meta(factory).flops() / macs - 1) < 0.005


def test_parameter_counts_of_larger_models():
    assert round(_params(_meta(se.swin_s)) / 1e6, 2) == 49.61
    assert round(_params(_meta(se.swin_b)) / 1e6, 2) == 87.77


def test_stage_shapes_of_swin_t():
    model = _meta(se.swin_t).eval()
    x = model.patch_embed(torch.empty(1, 3, 224, 224, device="meta"))
    shapes = [tuple(x.shape)]
    for layer in model.layers:
        x = layer(x)
        shapes.append(tuple(x.shape))
    assert shapes == [(1, 56, 56, 96), (1, 56, 56, 96), (1, 28, 28, 192), (1, 14, 14, 384), (1, 7, 7, 768)]


def test_last_stage_of_swin_t_has_no_shift():
    model = se.swin_t()
    assert [b.shift_size for b in model.layers[2].blocks] == [0, 3, 0, 3, 0, 3]
    assert [b.shift_size for b in model.layers[3].blocks] == [0, 0]


def test_window_shrinks_to_small_maps():
    model = se.swin_cifar()
    last = model.layers[-1].blocks[1]
    assert last.input_resolution == (4, 4) and last.window_size == 4 and last.shift_size == 0


@pytest.mark.parametrize("kwargs", [{}, {"img_size": 32, "patch_size": 2, "window_size": 4, "depths": (2, 6, 2),
                                     "num_heads": (3, 6, 12)},
                                    {"img_size": 64, "patch_size": 2, "window_size": 8, "depths": (2, 2, 2, 2)},
                                    {"img_size": 96, "window_size": 3, "depths": (2, 2, 2, 2)}])
def test_every_block_is_built_as_the_stage_plan_says(kwargs):
    model = _meta(lambda: se.swin_t(**kwargs))
    assert len(model.plan) == len(model.layers)
    x = torch.empty(1, 3, model.img_size, model.img_size, device="meta")
    x = model.patch_embed(x)
    for stage, layer in zip(model.plan, model.layers):
        assert tuple(x.shape[1:]) == (*stage.input_resolution, stage.input_dim)
        x = layer(x)
        assert tuple(x.shape[1:]) == (*stage.resolution, stage.dim)
        assert [(b.input_resolution, b.window_size, b.shift_size, b.attn.num_heads) for b in layer.blocks] == \
            [(stage.resolution, stage.window_size, stage.shift_size * (i % 2), stage.num_heads) for i in range(stage.depth)]
    assert model.num_features == model.plan[-1].dim


def test_cifar_config_runs_and_trains_a_step():
    model = se.swin_cifar()
    out = model(torch.randn(4, 3, 32, 32))
    assert out.shape == (4, 10)
    out.logsumexp(-1).mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_overrides_in_factories():
    model = se.swin_t(num_classes=10, window_size=7)
    assert model.head.out_features == 10


@pytest.mark.parametrize("shape", [(1, 3, 200, 200), (1, 1, 224, 224), (3, 224, 224)])
def test_wrong_image_raises_value_error(shape):
    with pytest.raises(ValueError, match="expected images of shape"):
        se.swin_t()(torch.randn(shape))


@pytest.mark.parametrize("kwargs,match", [
    ({"img_size": 225}, "not divisible by patch_size"),
    ({"window_size": 0}, "window_size must be >= 1"),
    ({"window_size": 6}, "not divisible by window_size"),
    ({"depths": (2, 2, 6), "num_heads": (3, 6, 12, 24)}, "same length"),
    ({"num_heads": (5, 6, 12, 24)}, "cannot be split into 5 heads"),
    ({"img_size": 80, "window_size": 5}, "even resolution"),
])
def test_bad_configuration_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        se.swin_t(**kwargs)


def test_bad_window_arguments_raise_value_error():
    with pytest.raises(ValueError, match="shift must be in"):
        se.shifted_window_mask(8, 8, 4, 4)
    with pytest.raises(ValueError, match="shift must be in"):
        se.region_map(8, 8, 4, -1)
    with pytest.raises(ValueError, match="multiples of the window size"):
        se.window_partition(torch.zeros(1, 8, 6, 2), 4)
    with pytest.raises(ValueError, match="window_size must be >= 1"):
        se.relative_position_index(0)
    with pytest.raises(ValueError, match="even H and W"):
        se.merge_patches(torch.zeros(1, 5, 4, 2))


def test_wrong_checkpoint_names_layout_and_keys():
    small = se.swin_t()
    with pytest.raises(ValueError, match=r"detected layout: swin_edu.*unexpected keys \['layers.2.blocks.6"):
        small_sd = se.swin_s().state_dict()
        se.load_weights(small, small_sd)
    with pytest.raises(ValueError, match="detected layout: unknown"):
        se.load_weights(small, {"foo.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="shape mismatches"):
        se.load_weights(small, se.swin_t(num_classes=10).state_dict())


@pytest.mark.slow
def test_compile_fullgraph_on_cpu():
    """One graph, no break (fullgraph=True): aot_eager traces the same graph as inductor without
    spending half a minute generating C++ (the inductor path runs in tests/test_training.py)."""
    model = se.swin_cifar(embed_dim=32, depths=(2, 2), num_heads=(2, 4)).eval()
    x = torch.randn(2, 3, 32, 32)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), atol=1e-5, rtol=1e-5)
