"""Facts of the transaction-log format that both record twins share.

Field numbers come from the official client's ``wandb_internal.proto``; the
framing is LevelDB's log format behind a 7-byte W&B file header. See
``docs/transaction-log.md`` in the shared design notes.
"""

from __future__ import annotations

import struct

# ":W&B", the little-endian uint16 0xBEE1, then format version 0.
FILE_HEADER = b":W&B" + struct.pack("<H", 0xBEE1) + b"\x00"

BLOCK_SIZE = 32 * 1024
CHUNK_HEADER_SIZE = 7  # uint32 CRC, uint16 length, uint8 type

CHUNK_FULL = 1
CHUNK_FIRST = 2
CHUNK_MIDDLE = 3
CHUNK_LAST = 4

WIRE_VARINT = 0
WIRE_FIXED64 = 1
WIRE_BYTES = 2
WIRE_FIXED32 = 5

# Record fields written on the hot path.
RECORD_NUM = 1
RECORD_HISTORY = 2
RECORD_SUMMARY = 3

# HistoryRecord / SummaryRecord / ConfigRecord fields.
ITEMS_UPDATE = 1  # HistoryRecord.item, SummaryRecord.update, ConfigRecord.update
ITEMS_REMOVE = 2  # SummaryRecord.remove, ConfigRecord.remove
HISTORY_STEP = 2
STEP_NUM = 1

# HistoryItem / SummaryItem / ConfigItem fields.
ITEM_KEY = 1
ITEM_NESTED_KEY = 2
ITEM_VALUE_JSON = 16

# JSON tokens for non-finite floats, as the official readers expect them.
NAN_TOKEN = "NaN"
POS_INF_TOKEN = "Infinity"
NEG_INF_TOKEN = "-Infinity"
