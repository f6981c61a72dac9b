"""TensorBoard event files from NumPy values, the same on every backend.

Written with TensorBoard's own event writer (the one PyTorch's
`torch.utils.tensorboard` is built on) in the format `tf.summary` writes
(scalars, images and histograms as tensors tagged for their plugin), so
that TensorBoard and `tf.compat.v1.train.summary_iterator` read them as they
read `tf.summary`'s. Not `tf.summary` itself: in eager mode TensorFlow
dispatches an op per value, ~300 us per scalar against ~20 us here, which
at a point every 5 generator iterations would cost ~5% of a 2-D training
step.
"""

import glob
import os
import time

import numpy as np

# Event files of this package end with this, so that a resumed run rewrites
# only its own files, never those of Keras's TensorBoard callback beside them.
FILENAME_SUFFIX = ".keras_wgan"


def encode_png(image) -> bytes:
    """A uint8 image `(H, W, C)` as PNG bytes."""
    import tensorflow as tf  # lazily, as Keras's TensorBoard callback does

    return tf.io.encode_png(np.asarray(image, "uint8")).numpy()


class SummaryWriter:
    """Writes scalars, images and histograms to the event files of one
    TensorBoard run (`log_dir`), at a step given by the caller.

    Example:

    ```python
    writer = SummaryWriter("runs/x/logs/train")
    writer.scalars({"wasserstein_estimate": 0.12}, step=100)
    writer.close()
    ```
    """

    def __init__(self, log_dir):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self._writer = EventFileWriter(self.log_dir, filename_suffix=FILENAME_SUFFIX)

    def scalars(self, values, step):
        """Writes `{tag: number}` at `step`, as float32 scalars."""
        from tensorboard.plugins.scalar import metadata

        summary_metadata = metadata.create_summary_metadata(display_name=None, description=None)
        self._write(step, [
            (tag, np.asarray(value, "float32"), summary_metadata) for tag, value in values.items()
        ])

    def image(self, tag, image, step) -> bytes:
        """Writes a uint8 image `(H, W, C)` at `step`, as PNG; returns the
        PNG bytes (for a copy on disk without encoding twice)."""
        from tensorboard.plugins.image import metadata

        image = np.asarray(image)
        height, width = image.shape[:2]
        png = encode_png(image)
        tensor = np.array([str(width).encode(), str(height).encode(), png], dtype=object)
        summary_metadata = metadata.create_summary_metadata(
            display_name=None, description=None, converted_to_tensor=True
        )
        self._write(step, [(tag, tensor, summary_metadata)])
        return png

    def histogram(self, tag, values, step, buckets=30):
        """Writes the histogram of `values` (`buckets` equal-width buckets
        over their range) at `step`, as TensorBoard's histogram plugin reads
        it: rows `(left edge, right edge, count)`."""
        from tensorboard.plugins.histogram import metadata

        values = np.asarray(values, "float64").ravel()
        if values.size == 0:
            rows = np.zeros((0, 3))
        elif values.min() == values.max():
            rows = np.array([[values.min(), values.max(), float(values.size)]])
        else:
            counts, edges = np.histogram(values, bins=buckets)
            rows = np.stack([edges[:-1], edges[1:], counts.astype("float64")], axis=1)
        summary_metadata = metadata.create_summary_metadata(display_name=None, description=None)
        self._write(step, [(tag, rows, summary_metadata)])

    def _write(self, step, entries):
        from tensorboard.compat.proto import event_pb2
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.util import tensor_util

        values = [
            summary_pb2.Summary.Value(tag=tag, tensor=tensor_util.make_tensor_proto(tensor), metadata=meta)
            for tag, tensor, meta in entries
        ]
        self._writer.add_event(event_pb2.Event(
            wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values)
        ))

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()


def drop_events_after(log_dir, step) -> int:
    """Removes from this package's event files in `log_dir` every event
    written at a step after `step`; returns how many were removed.

    A run resumed from a checkpoint at generator iteration `step` trains the
    iterations after it again: without this, TensorBoard would show those
    iterations twice, the old points beside the new ones.
    """
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    removed = 0
    for path in sorted(glob.glob(os.path.join(os.fspath(log_dir), "events.out.tfevents.*" + FILENAME_SUFFIX))):
        records = list(_records(path))
        kept = [r for r in records if not event_pb2.Event.FromString(r).step > step]
        removed += len(records) - len(kept)
        # Rewritten even when nothing is removed: a writer of an interrupted
        # fit may still hold the old file open, and what it flushes later
        # must not land in the file TensorBoard reads.
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            writer = RecordWriter(f)
            for record in kept:
                writer.write(record)
            writer.flush()
        os.replace(tmp, path)  # never a half-written file
    return removed


def _records(path):
    """The records of an event file (TFRecord) as bytes, up to any record
    cut short (a writer killed mid-write)."""
    import tensorflow as tf

    iterator = iter(tf.data.TFRecordDataset(path))
    while True:
        try:
            yield next(iterator).numpy()
        except (StopIteration, tf.errors.DataLossError):
            return
