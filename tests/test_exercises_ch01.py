"""The checks of notebook 01's exercises: right answers in any style pass, every catalogued mistake
(written again here, independently) gets its own diagnosis, and nothing a learner writes makes a
check raise."""
import pytest
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

import swin_edu
from swin_edu.exercises import check_patch_embed, check_patch_embed_macs, check_patch_partition
from swin_edu.exercises import ch01_patch_embedding as ch01

# ---------------------------------------------------------------------------------------------
# patch_partition
# ---------------------------------------------------------------------------------------------


def partition_view_permute(images, P):
    B, C, H, W = images.shape
    x = images.view(B, C, H // P, P, W // P, P)           # b c h p1 w p2
    return x.permute(0, 2, 4, 3, 5, 1).reshape(B, H // P, W // P, P * P * C)


def partition_unfold(images, P):
    B, C, H, W = images.shape
    cols = F.unfold(images, kernel_size=P, stride=P)      # [B, C*P*P, L], each column (c p1 p2)
    cols = cols.view(B, C, P * P, -1).permute(0, 3, 2, 1)  # [B, L, P*P, C]
    return cols.reshape(B, H // P, W // P, P * P * C)


def partition_loops(images, P):
    B, C, H, W = images.shape
    out = torch.empty(B, H // P, W // P, P * P * C, dtype=images.dtype, device=images.device)
    for b in range(B):
        for i in range(H // P):
            for j in range(W // P):
                patch = images[b, :, i * P:(i + 1) * P, j * P:(j + 1) * P]   # [C, P, P]
                vector = [patch[c, p1, p2] for p1 in range(P) for p2 in range(P) for c in range(C)]
                out[b, i, j] = torch.stack(vector)
    return out


def partition_channels_last_first(images, P):
    x = images.permute(0, 2, 3, 1)                        # [B, H, W, C]
    B, H, W, C = x.shape
    x = x.reshape(B, H // P, P, W // P, P, C).transpose(2, 3)
    return x.reshape(B, H // P, W // P, P * P * C)


@pytest.mark.parametrize("fn", [ch01.patch_partition, partition_view_permute, partition_unfold, partition_loops,
                                partition_channels_last_first])
def test_partition_right_answers_pass(fn):
    result = check_patch_partition(fn)
    assert result.passed, result.report
    assert "6 cases" in str(result)


def test_partition_reference_is_what_makes_a_linear_equal_the_conv():
    # the layout the exercise asks for is the one notebook 01 builds: with the conv weight flattened
    # (p1 p2 c), a Linear on these patch vectors is exactly PatchEmbed's Conv2d
    for case in ch01._partition_cases():
        images, P = case.args
        embed = swin_edu.PatchEmbed(patch_size=P, in_chans=images.shape[1], embed_dim=5).to(images.dtype)
        images = torch.rand_like(images)
        with torch.no_grad():
            linear = ch01.patch_partition(images, P) @ rearrange(embed.proj.weight, "C c p1 p2 -> C (p1 p2 c)").T
            conv = embed.proj(images).permute(0, 2, 3, 1)
        torch.testing.assert_close(linear + embed.proj.bias, conv)


def partition_c_p1_p2(images, P):  # F.unfold's order, kept
    B, C, H, W = images.shape
    return F.unfold(images, P, stride=P).transpose(1, 2).reshape(B, H // P, W // P, C * P * P)


def partition_transposed_patch(images, P):
    B, C, H, W = images.shape
    x = images.view(B, C, H // P, P, W // P, P).permute(0, 2, 4, 5, 3, 1)  # b h w p2 p1 c
    return x.reshape(B, H // P, W // P, -1)


def partition_plain_reshape(images, P):
    B, C, H, W = images.shape
    return images.permute(0, 2, 3, 1).reshape(B, H // P, W // P, P * P * C)


def partition_grid_transposed(images, P):
    B, C, H, W = images.shape
    x = images.view(B, C, H // P, P, W // P, P).permute(0, 4, 2, 3, 5, 1)  # b w h p1 p2 c
    return x.reshape(B, W // P, H // P, -1)


def partition_channels_first(images, P):
    B, C, H, W = images.shape
    x = images.view(B, C, H // P, P, W // P, P).permute(0, 3, 5, 1, 2, 4)  # b p1 p2 c h w
    return x.reshape(B, P * P * C, H // P, W // P)


@pytest.mark.parametrize("fn, mistake, phrase", [
    (partition_c_p1_p2, "flattened-c-p1-p2", "flattened as (c p1 p2)"),
    (partition_transposed_patch, "patch-transposed", "the patch is transposed"),
    (partition_plain_reshape, "reshape-without-permute", "without moving the axes"),
    (partition_grid_transposed, "grid-transposed", "patch grid is transposed"),
    (partition_channels_first, "channels-first", "channels first"),
])
def test_partition_mistakes_are_diagnosed(fn, mistake, phrase):
    result = check_patch_partition(fn)
    assert result.status == "failed" and result.mistake == mistake, result.report
    assert phrase in str(result)
    assert "notebook 01, section 2. Patch partition" in str(result)


def test_partition_report_draws_where_the_pixels_go():
    report = str(check_patch_partition(partition_c_p1_p2))
    assert "4x4 image" in report and "inside its token's vector" in report
    assert "0 3 0 3  | 0 1 0 1" in report  # expected (p1 p2 c) slots beside the learner's (c p1 p2)
    report = str(check_patch_partition(partition_plain_reshape))
    assert "token (row-major over the patch grid)" in report


def test_every_partition_mistake_differs_from_the_reference_somewhere():
    cases = ch01._partition_cases()
    for mistake in ch01.PARTITION_MISTAKES:
        assert any(ch01.PATCH_PARTITION.diagnose(c, ch01.patch_partition(*c.args)) is not mistake
                   for c in cases), mistake.name


def test_partition_other_failures_are_reported():
    def raises(images, P):
        return images.view(-1, P, 7)

    def stub(images, P):
        raise NotImplementedError()

    def dots(images, P):
        ...

    def wrong_shape(images, P):  # tokens flattened to [B, L, D]
        return ch01.patch_partition(images, P).flatten(1, 2)

    def wrong_dtype(images, P):
        return ch01.patch_partition(images, P).double()

    def unexplained(images, P):
        out = ch01.patch_partition(images, P).clone()
        out[..., 1] += 1
        return out

    result = check_patch_partition(raises)
    assert result.status == "error" and "RuntimeError" in str(result) and "4x4 image" in str(result)
    for fn in (stub, dots, lambda images, P: None, None):
        assert check_patch_partition(fn).status == "not attempted"
    assert "not attempted yet" in str(check_patch_partition(stub))
    result = check_patch_partition(wrong_shape)
    assert result.status == "failed" and "shape" in str(result)
    result = check_patch_partition(wrong_dtype)
    assert result.status == "failed" and "dtype" in str(result)
    result = check_patch_partition(unexplained)
    assert result.status == "failed" and result.mistake is None and "first at index [0, 0, 0, 1]" in str(result)
    assert check_patch_partition(torch.zeros(3)).status == "failed"  # not a function: reported, not raised
    assert check_patch_partition(lambda images, P: "patches").status == "failed"


# ---------------------------------------------------------------------------------------------
# patch_embed
# ---------------------------------------------------------------------------------------------


def embed_like_notebook(images, embed):
    P = embed.patch_size
    patches = rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P)
    linear = nn.Linear(patches.shape[-1], embed.proj.out_channels).to(images.dtype)
    with torch.no_grad():
        linear.weight.copy_(rearrange(embed.proj.weight, "C c p1 p2 -> C (p1 p2 c)"))
        linear.bias.copy_(embed.proj.bias)
    return embed.norm(linear(patches))


def embed_unfold_manual_norm(images, embed):
    B, _, H, W = images.shape
    P = embed.patch_size
    cols = F.unfold(images, P, stride=P).transpose(1, 2)             # [B, L, C_in*P*P], (c p1 p2)
    z = F.linear(cols, embed.proj.weight.flatten(1), embed.proj.bias)  # weight (c p1 p2) too
    z = z.view(B, H // P, W // P, -1)
    mean = z.mean(-1, keepdim=True)
    var = z.var(-1, unbiased=False, keepdim=True)
    return (z - mean) / torch.sqrt(var + 1e-5) * embed.norm.weight + embed.norm.bias


def embed_einsum(images, embed):
    B, C_in, H, W = images.shape
    P = embed.patch_size
    x = images.view(B, C_in, H // P, P, W // P, P)
    z = torch.einsum("bchpwq,ocpq->bhwo", x, embed.proj.weight) + embed.proj.bias
    return F.layer_norm(z, z.shape[-1:], embed.norm.weight, embed.norm.bias, embed.norm.eps)


def embed_linear_weights(images, embed):
    P = embed.patch_size
    patches = rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P)
    return embed.norm(F.linear(patches, rearrange(embed.proj.weight, "C c p1 p2 -> C (p1 p2 c)"), embed.proj.bias))


@pytest.mark.parametrize("fn", [embed_linear_weights, embed_unfold_manual_norm, embed_einsum])
def test_embed_right_answers_pass(fn):
    result = check_patch_embed(fn)
    assert result.passed, result.report


def test_embed_with_a_copy_of_the_weights_fails():
    """Notebook 01 copies the conv weight into a new nn.Linear under no_grad to show the two are equal; as
    a layer that copy would never train embed.proj (issue 16: model parts must pass the gradient)."""
    result = check_patch_embed(embed_like_notebook)
    assert result.status == "failed" and "gradient does not reach `embed.proj.weight`" in str(result), str(result)


def test_embed_layer_norm_without_eps_is_not_a_mistake():
    def no_eps(images, embed):
        B, C_in, H, W = images.shape
        P = embed.patch_size
        x = images.view(B, C_in, H // P, P, W // P, P)
        z = torch.einsum("bchpwq,ocpq->bhwo", x, embed.proj.weight) + embed.proj.bias
        z = (z - z.mean(-1, keepdim=True)) / z.std(-1, unbiased=False, keepdim=True)
        return z * embed.norm.weight + embed.norm.bias
    assert check_patch_embed(no_eps).passed


def _patches(images, P):
    return images.view(*images.shape[:2], images.shape[2] // P, P, images.shape[3] // P, P)  # b c h p1 w p2


def embed_weight_flatten(images, embed):
    P = embed.patch_size
    patches = _patches(images, P).permute(0, 2, 4, 3, 5, 1).flatten(3)   # (p1 p2 c)
    return embed.norm(patches @ embed.proj.weight.flatten(1).T + embed.proj.bias)


def embed_unfold_with_notebook_weight(images, embed):
    B, _, H, W = images.shape
    P = embed.patch_size
    cols = F.unfold(images, P, stride=P).transpose(1, 2).reshape(B, H // P, W // P, -1)  # (c p1 p2)
    weight = embed.proj.weight.permute(0, 2, 3, 1).flatten(1)                           # (p1 p2 c)
    return embed.norm(cols @ weight.T + embed.proj.bias)


def embed_transposed_kernel(images, embed):
    P = embed.patch_size
    patches = _patches(images, P).permute(0, 2, 4, 3, 5, 1).flatten(3)   # (p1 p2 c)
    weight = embed.proj.weight.permute(0, 3, 2, 1).flatten(1)            # (p2 p1 c)
    return embed.norm(patches @ weight.T + embed.proj.bias)


def embed_no_bias(images, embed):
    z = F.conv2d(images, embed.proj.weight, stride=embed.patch_size).permute(0, 2, 3, 1)
    return embed.norm(z)


def embed_no_norm(images, embed):
    return embed.proj(images).permute(0, 2, 3, 1)


def embed_norm_without_affine(images, embed):
    z = embed.proj(images).permute(0, 2, 3, 1)
    return (z - z.mean(-1, keepdim=True)) / torch.sqrt(z.var(-1, unbiased=False, keepdim=True) + 1e-5)


def embed_norm_unbiased(images, embed):
    z = embed.proj(images).permute(0, 2, 3, 1)
    return (z - z.mean(-1, keepdim=True)) / torch.sqrt(z.var(-1, keepdim=True) + 1e-5) * embed.norm.weight \
        + embed.norm.bias


@pytest.mark.parametrize("fn, mistake, phrase", [
    (embed_weight_flatten, "weight-flattened-c-p1-p2", "weight.flatten(1)"),
    (embed_unfold_with_notebook_weight, "patches-c-p1-p2", "two orders must be the same"),
    (embed_transposed_kernel, "kernel-transposed", "transposed kernel"),
    (embed_no_bias, "no-bias", "forgot the projection's bias"),
    (embed_no_norm, "no-layernorm", "before the LayerNorm"),
    (embed_norm_without_affine, "layernorm-without-affine", "learned scale and shift"),
    (embed_norm_unbiased, "layernorm-unbiased", "unbiased standard deviation"),
])
def test_embed_mistakes_are_diagnosed(fn, mistake, phrase):
    result = check_patch_embed(fn)
    assert result.status == "failed" and result.mistake == mistake, result.report
    assert phrase in str(result) and "(notebook 01, section" in str(result)


def test_every_embed_mistake_differs_from_the_reference_somewhere():
    cases = ch01._embed_cases()
    for mistake in ch01.EMBED_MISTAKES:
        assert any(ch01.PATCH_EMBED.diagnose(c, ch01.patch_embed(*c.args)) is not mistake for c in cases), mistake.name


def test_embed_other_failures_are_reported():
    def raises(images, embed):  # the weight not transposed: [.., 12] @ [8, 12]
        patches = rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=2, p2=2)
        return patches @ embed.proj.weight.flatten(1)

    def wrong_shape(images, embed):  # a channel lost (channels first is a named mistake)
        return embed_einsum(images, embed)[..., :-1]

    def wrong_dtype(images, embed):
        return embed_einsum(images, embed).float()

    def unexplained(images, embed):
        return embed_einsum(images, embed) * 1.01

    result = check_patch_embed(raises)
    assert result.status == "error" and "RuntimeError" in str(result) and "line" in str(result)
    for fn in (lambda images, embed: None, lambda images, embed: ...):
        assert check_patch_embed(fn).status == "not attempted"
    result = check_patch_embed(wrong_shape)
    assert result.status == "failed" and "shape" in str(result)
    result = check_patch_embed(wrong_dtype)
    assert result.status == "failed" and "dtype" in str(result) and "float64" in str(result)
    result = check_patch_embed(unexplained)
    assert result.status == "failed" and result.mistake is None and "first at index" in str(result)
    assert "embed PatchEmbed float32" in str(result)  # the input is named, not dumped


def test_embed_check_leaves_the_learners_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_patch_embed(ch01.patch_embed)
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------------------------------------
# patch_embed_macs
# ---------------------------------------------------------------------------------------------


def test_macs_answer_is_the_packages_count():
    assert ch01.PATCH_EMBED_MACS.answer == swin_edu.PatchEmbed(4, 3, 128).flops(224, 224)


@pytest.mark.parametrize("value", [56 * 56 * 48 * 128 + 56 * 56 * 128, 19668992.0, torch.tensor(19668992)])
def test_macs_right_values_pass(value):
    assert check_patch_embed_macs(lambda: value).passed
    assert check_patch_embed_macs(value).passed


@pytest.mark.parametrize("value, mistake", [
    (56 * 56 * 48 * 128, "projection-only"),
    (2 * 56 * 56 * 48 * 128, "flop-counter"),
    (2 * (56 * 56 * 48 * 128 + 56 * 56 * 128), "doubled"),
    (56 * 56 * 16 * 128 + 56 * 56 * 128, "no-colours"),
    (56 * 56 * 48 * 96 + 56 * 56 * 96, "swin-t"),
])
def test_macs_wrong_values_are_diagnosed(value, mistake):
    result = check_patch_embed_macs(lambda: value)
    assert result.status == "failed" and result.mistake == mistake, result.report
    assert "(notebook 01, section" in str(result)


def test_macs_other_answers():
    def stub():
        raise NotImplementedError()

    result = check_patch_embed_macs(lambda: 19668993)
    assert result.status == "failed" and result.mistake is None
    assert check_patch_embed_macs(stub).status == "not attempted"
    assert check_patch_embed_macs(None).status == "not attempted"
    assert check_patch_embed_macs(lambda: 1 / 0).status == "error"
    assert check_patch_embed_macs(lambda: "19668992").status == "failed"


def test_chapter_lists_its_exercises_in_notebook_order():
    assert [ex.name for ex in ch01.EXERCISES] == ["patch_partition", "patch_embed", "patch_embed_macs",
                                                  "overlapping_patches"]
    assert set(ch01.__all__) == {"check_patch_partition", "check_patch_embed", "check_patch_embed_macs",
                                 "check_overlapping_patches"}


def test_patch_embed_by_calling_the_layer_or_a_convolution_does_not_pass():
    import torch.nn.functional as F

    for fn, phrase in [(lambda images, embed: embed(images), "embed(images)"),
                       (lambda images, embed: embed.norm(embed.proj(images).permute(0, 2, 3, 1)), "embed.proj"),
                       (lambda images, embed: embed.norm(F.conv2d(images, embed.proj.weight, embed.proj.bias,
                                                                  stride=embed.patch_size).permute(0, 2, 3, 1)),
                        "a convolution")]:
        result = check_patch_embed(fn)
        assert result.status == "failed" and phrase in str(result), str(result)


# --- transfer: overlapping_patches (kernel K > stride S, zero padding) ------------------------------

from swin_edu.exercises import check_overlapping_patches  # noqa: E402


def overlap_unfold(images, K, S, padding):  # F.unfold gives (c p1 p2) columns: move c last
    B, C, H, W = images.shape
    cols = F.unfold(images, kernel_size=K, stride=S, padding=padding)  # [B, C*K*K, L]
    Ho, Wo = (H + 2 * padding - K) // S + 1, (W + 2 * padding - K) // S + 1
    return cols.view(B, C, K * K, Ho, Wo).permute(0, 3, 4, 2, 1).reshape(B, Ho, Wo, K * K * C)


def overlap_loops(images, K, S, padding):
    x = F.pad(images, (padding, padding, padding, padding))
    Ho, Wo = (x.shape[2] - K) // S + 1, (x.shape[3] - K) // S + 1
    rows = [torch.stack([x[:, :, i * S:i * S + K, j * S:j * S + K].permute(0, 2, 3, 1).flatten(1)
                         for j in range(Wo)], dim=1) for i in range(Ho)]
    return torch.stack(rows, dim=1)


def overlap_tensor_unfold(images, K, S, padding):
    x = F.pad(images, (padding,) * 4).unfold(2, K, S).unfold(3, K, S)  # [B, C, Ho, Wo, K, K]
    return rearrange(x, "b c h w p1 p2 -> b h w (p1 p2 c)")


def test_overlapping_patches_right_in_other_styles():
    for fn in (overlap_unfold, overlap_loops, overlap_tensor_unfold):
        result = check_overlapping_patches(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_overlapping_patches_then_linear_is_the_conv_stem():
    conv = nn.Conv2d(3, 8, kernel_size=7, stride=4, padding=3)
    images = torch.randn(2, 3, 16, 12)
    tokens = ch01._overlapping_patches(images, 7, 4, 3)
    weight = rearrange(conv.weight, "C c p1 p2 -> C (p1 p2 c)")
    torch.testing.assert_close(tokens @ weight.T + conv.bias, conv(images).permute(0, 2, 3, 1))


def overlap_c_first(images, K, S, padding):  # F.unfold's order kept
    B, C, H, W = images.shape
    cols = F.unfold(images, kernel_size=K, stride=S, padding=padding)
    Ho, Wo = (H + 2 * padding - K) // S + 1, (W + 2 * padding - K) // S + 1
    return cols.transpose(1, 2).reshape(B, Ho, Wo, C * K * K)


def overlap_transposed(images, K, S, padding):
    return rearrange(overlap_tensor_unfold(images, K, S, padding), "b h w (p1 p2 c) -> b h w (p2 p1 c)",
                     p1=K, p2=K)


def overlap_no_padding(images, K, S, padding):
    return overlap_tensor_unfold(images, K, S, 0)


def overlap_width_padding(images, K, S, padding):
    x = F.pad(images, (padding, padding)).unfold(2, K, S).unfold(3, K, S)
    return rearrange(x, "b c h w p1 p2 -> b h w (p1 p2 c)")


def overlap_stride_k(images, K, S, padding):
    return overlap_tensor_unfold(images, K, K, padding)


def overlap_short_grid(images, K, S, padding):  # range((H + 2p - K) // S): the + 1 forgotten
    x = F.pad(images, (padding,) * 4)
    Ho, Wo = (x.shape[2] - K) // S, (x.shape[3] - K) // S
    return torch.stack([torch.stack([x[:, :, i * S:i * S + K, j * S:j * S + K].permute(0, 2, 3, 1).flatten(1)
                                     for j in range(Wo)], 1) for i in range(Ho)], 1)


OVERLAP_WRONG = [(overlap_c_first, "flattened-c-p1-p2", "(c p1 p2)"),
                 (overlap_transposed, "patch-transposed", "(p2 p1 c)"),
                 (overlap_no_padding, "no-padding", "you did not pad"),
                 (overlap_width_padding, "width-only-padding", "padded the columns only"),
                 (overlap_stride_k, "stride-K", "do not overlap"),
                 (overlap_short_grid, "last-patch-dropped", "last patch row and column")]


def test_overlapping_patches_mistakes_are_named():
    assert {name for _, name, _ in OVERLAP_WRONG} == {m.name for m in ch01.OVERLAP_MISTAKES}
    for fn, name, phrase in OVERLAP_WRONG:
        result = check_overlapping_patches(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 01, section" in str(result)


def test_overlapping_patches_report_draws_the_patch():
    report = str(check_overlapping_patches(overlap_c_first))
    assert "0 = padding" in report and len(report.splitlines()) <= 12


def test_overlapping_patches_stubs_errors_and_odd_answers():
    def stub(images, K, S, padding):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_overlapping_patches(fn).status == "not attempted"
    assert check_overlapping_patches(lambda images, K, S, p: images[9]).status == "error"
    for odd in (lambda *a: [1, 2], lambda *a: torch.zeros(3), lambda *a: overlap_tensor_unfold(*a).double(),
                lambda *a: overlap_tensor_unfold(*a) + 1, lambda *a: overlap_tensor_unfold(*a).long()):
        result = check_overlapping_patches(odd)
        assert result.status == "failed" and result.mistake is None, str(result)
    calls_reference = check_overlapping_patches(lambda *a: ch01._overlapping_patches(*a))
    assert calls_reference.status == "failed" and "the package's own answer" in str(calls_reference)


def test_overlapping_patches_must_let_the_gradient_through():
    result = check_overlapping_patches(lambda images, K, S, p: overlap_unfold(images.detach(), K, S, p))
    assert result.status == "failed" and "gradient" in str(result), str(result)


# --- the student-tester's unnamed attempts --------------------------------------------------------

def test_more_partition_mistakes_are_named():
    def plain_reshape(im, P):
        B, C, H, W = im.shape
        return im.reshape(B, H // P, W // P, P * P * C)

    for fn, name in [(plain_reshape, "reshape-channels-first"),
                     (lambda im, P: rearrange(im, "b c (p1 h) (p2 w) -> b h w (p1 p2 c)", p1=P, p2=P),
                      "strided-patches")]:
        result = check_patch_partition(fn)
        assert result.mistake == name and "notebook 01" in str(result), str(result)


def test_embed_channels_first_is_named():
    result = check_patch_embed(lambda im, embed: ch01.patch_embed(im, embed).permute(0, 3, 1, 2))
    assert result.mistake == "channels-first" and "channels first" in str(result), str(result)


@pytest.mark.parametrize("value, mistake", [
    (2 * (56 * 56 * 48 * 128) + 56 * 56 * 128, "flops-projection"),
    (56 * 56 * 48 * 128 + 2 * 56 * 56 * 128, "two-per-output"),
    (224 * 224 * 48 * 128 + 224 * 224 * 128, "pixels-as-tokens")])
def test_more_macs_mistakes_are_named(value, mistake):
    assert check_patch_embed_macs(lambda: value).mistake == mistake


def overlap_one_side(im, K, S, p):
    x = F.pad(im, (0, 2 * p, 0, 2 * p)).unfold(2, K, S).unfold(3, K, S)
    return rearrange(x, "b c h w p1 p2 -> b h w (p1 p2 c)")


def overlap_grid_transposed(im, K, S, p):
    x = F.pad(im, (p, p, p, p)).unfold(2, K, S).unfold(3, K, S)
    return rearrange(x, "b c h w p1 p2 -> b w h (p1 p2 c)")


OVERLAP_WRONG += [(overlap_one_side, "padding-one-side", "bottom and right"),
                  (overlap_grid_transposed, "grid-transposed", "grid is transposed")]
