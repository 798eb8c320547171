"""The computations behind the tutorial's figures: numbers and tensors, no drawing, no matplotlib.

Each submodule holds one concept; :mod:`swin_edu.plotting` draws what these functions compute, and the
notebooks and tests call them directly:

* :mod:`.patches`: the sample photograph and the zoomed block of patches (notebooks 01-03).
* :mod:`.windows`: where a token of a window sits on the map, how a window is named (notebooks 03-04).
* :mod:`.regions`: the nine regions of the shifted windows in both numberings, one window's mask (04).
* :mod:`.position`: hand-made relative position bias tables, what one query reads, resizing (05).
* :mod:`.footprints`: which input tokens one output token depends on, through blocks and stages (04, 06).
* :mod:`.attention`: what one query pixel of a test image attends to in a trained model (07).
"""
from .attention import query_attention
from .footprints import REACH_THRESHOLD, block_stack, gradient_footprint, reached_tokens, stage_footprints
from .patches import sample_image, zoom_box
from .position import (bias_table_grid, check_bias_table, example_bias_table, query_bias_row, resize_bias_table,
                       same_offset_pair)
from .regions import RegionViews, check_regions, original_region_map, region_views
from .windows import query_token, window_name

__all__ = [
    "sample_image", "zoom_box",
    "query_token", "window_name",
    "check_regions", "original_region_map", "RegionViews", "region_views",
    "example_bias_table", "check_bias_table", "bias_table_grid", "same_offset_pair", "query_bias_row",
    "resize_bias_table",
    "REACH_THRESHOLD", "block_stack", "gradient_footprint", "reached_tokens", "stage_footprints",
    "query_attention",
]
