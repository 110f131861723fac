"""A minimal H.264 (ISO/IEC 14496-10) encoder for still-picture clips.

The emulator needs real, playable video of any requested size without a codec
library, so it writes the simplest conforming stream there is: one IDR picture
whose macroblocks are all I_PCM (raw samples, no transform or entropy coding),
followed by P pictures whose macroblocks are all P_Skip (copy the reference).

Even frame sizes use 4:2:0 Constrained Baseline, which every player decodes.
Frame cropping in 4:2:0 works in steps of two pixels, so a size with an odd
dimension (Lumenfall lists 1365x768 for sora-2) switches to High 4:4:4
Predictive, where the crop step is one pixel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from framecast.emulator.pattern import MacroblockColours

_LOG2_MAX_FRAME_NUM = 16
_MB_TYPE_I_PCM = 25
_SLICE_TYPE_P_ALL = 5
_SLICE_TYPE_I_ALL = 7
_NAL_SLICE = 1
_NAL_IDR = 5
_NAL_SPS = 7
_NAL_PPS = 8


class _BitWriter:
    """Big-endian bit packer with the Exp-Golomb codes of clause 9.1."""

    def __init__(self) -> None:
        self._out = bytearray()
        self._acc = 0
        self._nbits = 0

    def u(self, nbits: int, value: int) -> None:
        self._acc = (self._acc << nbits) | (value & ((1 << nbits) - 1))
        self._nbits += nbits
        while self._nbits >= 8:
            self._nbits -= 8
            self._out.append((self._acc >> self._nbits) & 0xFF)
        self._acc &= (1 << self._nbits) - 1

    def ue(self, value: int) -> None:
        code = value + 1
        length = code.bit_length()
        self.u(length - 1, 0)
        self.u(length, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        if self._nbits:
            self.u(8 - self._nbits, 0)

    def trailing_bits(self) -> None:
        self.u(1, 1)
        self.align_zero()

    @property
    def aligned(self) -> bool:
        return self._nbits == 0

    def getvalue(self) -> bytes:
        if self._nbits:
            raise ValueError("bit stream is not byte-aligned")
        return bytes(self._out)


_EMULATION = re.compile(rb"\x00\x00(?=[\x00-\x03])")


def nal_unit(nal_ref_idc: int, nal_unit_type: int, rbsp: bytes) -> bytes:
    """Wrap an RBSP in a NAL header, inserting emulation-prevention bytes."""
    payload = _EMULATION.sub(b"\x00\x00\x03", rbsp) if b"\x00\x00" in rbsp else rbsp
    return bytes([(nal_ref_idc << 5) | nal_unit_type]) + payload


@dataclass(frozen=True, slots=True)
class StreamLayout:
    width: int
    height: int
    chroma_format_idc: int  # 1 = 4:2:0, 3 = 4:4:4

    @classmethod
    def for_size(cls, width: int, height: int) -> StreamLayout:
        odd = width % 2 or height % 2
        return cls(width, height, 3 if odd else 1)

    @property
    def mb_cols(self) -> int:
        return -(-self.width // 16)

    @property
    def mb_rows(self) -> int:
        return -(-self.height // 16)

    @property
    def profile_idc(self) -> int:
        return 66 if self.chroma_format_idc == 1 else 244

    @property
    def constraint_flags(self) -> int:
        # constraint_set0 + constraint_set1: Constrained Baseline
        return 0b11000000 if self.profile_idc == 66 else 0

    @property
    def level_idc(self) -> int:
        mbs = self.mb_cols * self.mb_rows
        if mbs <= 3600:
            return 31
        if mbs <= 8192:
            return 40
        if mbs <= 22080:
            return 50
        return 51

    @property
    def chroma_samples_per_mb(self) -> int:
        return 64 if self.chroma_format_idc == 1 else 256


def sequence_parameter_set(layout: StreamLayout, fps: Fraction) -> bytes:
    w = _BitWriter()
    w.u(8, layout.profile_idc)
    w.u(8, layout.constraint_flags)
    w.u(8, layout.level_idc)
    w.ue(0)  # seq_parameter_set_id
    if layout.profile_idc != 66:
        w.ue(layout.chroma_format_idc)
        if layout.chroma_format_idc == 3:
            w.u(1, 0)  # separate_colour_plane_flag
        w.ue(0)  # bit_depth_luma_minus8
        w.ue(0)  # bit_depth_chroma_minus8
        w.u(1, 0)  # qpprime_y_zero_transform_bypass_flag
        w.u(1, 0)  # seq_scaling_matrix_present_flag
    w.ue(_LOG2_MAX_FRAME_NUM - 4)
    w.ue(2)  # pic_order_cnt_type: output order is decoding order
    w.ue(1)  # max_num_ref_frames
    w.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    w.ue(layout.mb_cols - 1)
    w.ue(layout.mb_rows - 1)
    w.u(1, 1)  # frame_mbs_only_flag
    w.u(1, 1)  # direct_8x8_inference_flag
    crop_unit = 2 if layout.chroma_format_idc == 1 else 1
    crop_right = (layout.mb_cols * 16 - layout.width) // crop_unit
    crop_bottom = (layout.mb_rows * 16 - layout.height) // crop_unit
    if crop_right or crop_bottom:
        w.u(1, 1)
        for offset in (0, crop_right, 0, crop_bottom):
            w.ue(offset)
    else:
        w.u(1, 0)
    _write_vui(w, fps)
    w.trailing_bits()
    return nal_unit(3, _NAL_SPS, w.getvalue())


def _write_vui(w: _BitWriter, fps: Fraction) -> None:
    w.u(1, 1)  # vui_parameters_present_flag
    w.u(1, 0)  # aspect_ratio_info_present_flag (square pixels)
    w.u(1, 0)  # overscan_info_present_flag
    w.u(1, 1)  # video_signal_type_present_flag
    w.u(3, 5)  # video_format: unspecified
    w.u(1, 0)  # video_full_range_flag: limited range, as the samples are
    w.u(1, 1)  # colour_description_present_flag
    w.u(8, 1)  # colour_primaries: BT.709
    w.u(8, 1)  # transfer_characteristics: BT.709
    w.u(8, 1)  # matrix_coefficients: BT.709
    w.u(1, 0)  # chroma_loc_info_present_flag
    w.u(1, 1)  # timing_info_present_flag
    # frame rate = time_scale / (2 * num_units_in_tick)
    w.u(32, fps.denominator)
    w.u(32, 2 * fps.numerator)
    w.u(1, 1)  # fixed_frame_rate_flag
    w.u(1, 0)  # nal_hrd_parameters_present_flag
    w.u(1, 0)  # vcl_hrd_parameters_present_flag
    w.u(1, 0)  # pic_struct_present_flag
    w.u(1, 1)  # bitstream_restriction_flag: lets decoders output at once
    w.u(1, 1)  # motion_vectors_over_pic_boundaries_flag
    w.ue(0)  # max_bytes_per_pic_denom
    w.ue(0)  # max_bits_per_mb_denom
    w.ue(16)  # log2_max_mv_length_horizontal
    w.ue(16)  # log2_max_mv_length_vertical
    w.ue(0)  # max_num_reorder_frames
    w.ue(1)  # max_dec_frame_buffering


def picture_parameter_set() -> bytes:
    w = _BitWriter()
    w.ue(0)  # pic_parameter_set_id
    w.ue(0)  # seq_parameter_set_id
    w.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    w.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    w.ue(0)  # num_slice_groups_minus1
    w.ue(0)  # num_ref_idx_l0_default_active_minus1
    w.ue(0)  # num_ref_idx_l1_default_active_minus1
    w.u(1, 0)  # weighted_pred_flag
    w.u(2, 0)  # weighted_bipred_idc
    w.se(0)  # pic_init_qp_minus26
    w.se(0)  # pic_init_qs_minus26
    w.se(0)  # chroma_qp_index_offset
    w.u(1, 1)  # deblocking_filter_control_present_flag
    w.u(1, 0)  # constrained_intra_pred_flag
    w.u(1, 0)  # redundant_pic_cnt_present_flag
    w.trailing_bits()
    return nal_unit(3, _NAL_PPS, w.getvalue())


def idr_picture(layout: StreamLayout, colours: MacroblockColours) -> bytes:
    """One IDR slice covering the picture, every macroblock I_PCM."""
    w = _BitWriter()
    w.ue(0)  # first_mb_in_slice
    w.ue(_SLICE_TYPE_I_ALL)
    w.ue(0)  # pic_parameter_set_id
    w.u(_LOG2_MAX_FRAME_NUM, 0)  # frame_num
    w.ue(0)  # idr_pic_id
    w.u(1, 0)  # no_output_of_prior_pics_flag
    w.u(1, 0)  # long_term_reference_flag
    w.se(0)  # slice_qp_delta
    w.ue(1)  # disable_deblocking_filter_idc: PCM samples stay exact
    w.ue(_MB_TYPE_I_PCM)
    w.align_zero()
    head = w.getvalue()
    # After the first PCM block the stream is byte-aligned, so every later
    # macroblock is the same two bytes: ue(25) = 000011010 plus 7 zero bits.
    between = b"\x0d\x00"
    blocks = colours.pcm_blocks(layout.mb_cols, layout.mb_rows, layout.chroma_samples_per_mb)
    rbsp = head + between.join(blocks) + b"\x80"
    return nal_unit(3, _NAL_IDR, rbsp)


def skip_picture(layout: StreamLayout, frame_num: int) -> bytes:
    """A P slice in which every macroblock is skipped (a copy of the last frame)."""
    w = _BitWriter()
    w.ue(0)  # first_mb_in_slice
    w.ue(_SLICE_TYPE_P_ALL)
    w.ue(0)  # pic_parameter_set_id
    w.u(_LOG2_MAX_FRAME_NUM, frame_num % (1 << _LOG2_MAX_FRAME_NUM))
    w.u(1, 0)  # num_ref_idx_active_override_flag
    w.u(1, 0)  # ref_pic_list_modification_flag_l0
    w.u(1, 0)  # adaptive_ref_pic_marking_mode_flag
    w.se(0)  # slice_qp_delta
    w.ue(1)  # disable_deblocking_filter_idc
    w.ue(layout.mb_cols * layout.mb_rows)  # mb_skip_run
    w.trailing_bits()
    # nal_ref_idc != 0: with pic_order_cnt_type 2, consecutive non-reference
    # pictures are not allowed.
    return nal_unit(2, _NAL_SLICE, w.getvalue())
