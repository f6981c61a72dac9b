"""TensorBoard event files from NumPy values, the same on every backend.

Events are built with TensorBoard's protos in the format `tf.summary`
writes (scalars, images and histograms as tensors tagged for their plugin),
so that TensorBoard and `tf.compat.v1.train.summary_iterator` read them as
they read `tf.summary`'s, and written as records by TensorFlow's
`tf.io.TFRecordWriter` (an event file is a TFRecord file). Not `tf.summary`
itself: in eager mode TensorFlow dispatches an op per value, ~300 us per
scalar against ~20 us here, which at a point every 5 generator iterations
would cost ~5% of a 2-D training step. Nor TensorBoard's `EventFileWriter`
(the one `torch.utils.tensorboard` is built on): its checksums are pure
Python (3 ms for a 10 KB PNG), computed on a thread that takes the
interpreter from the training loop, and each event passes a locked queue.
Measured with the records of the default 2-D run (400 of 300 bytes, 9 of
10 KB, 72 of 900 bytes) to the last flush: 90 ms of wall time and 45 ms of
CPU time there, against 0.7 ms here.
"""

import glob
import itertools
import os
import socket
import time

import numpy as np

# Event files of this package end with this, so that a resumed run rewrites
# only its own files, never those of Keras's TensorBoard callback beside them.
FILENAME_SUFFIX = ".keras_wgan"

# Tells apart the files of writers opened in the same second by one process.
_WRITER_IDS = itertools.count()


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
        import tensorflow as tf
        from tensorboard.compat.proto import event_pb2

        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        # The file name TensorFlow's and TensorBoard's writers give.
        name = "events.out.tfevents.%010d.%s.%s.%s%s" % (
            time.time(), socket.gethostname(), os.getpid(), next(_WRITER_IDS), FILENAME_SUFFIX)
        self.path = os.path.join(self.log_dir, name)
        self._writer = tf.io.TFRecordWriter(self.path)
        # The first event of an event file names its version and writer.
        self._writer.write(event_pb2.Event(
            wall_time=time.time(), file_version="brain.Event:2",
            source_metadata=event_pb2.SourceMetadata(writer="keras_wgan"),
        ).SerializeToString())
        self._writer.flush()

    def scalars(self, values, step):
        """Writes `{tag: number}` at `step`, as float32 scalars."""
        from tensorboard.compat.proto import tensor_pb2
        from tensorboard.compat.proto import tensor_shape_pb2
        from tensorboard.compat.proto import types_pb2
        from tensorboard.plugins.scalar import metadata

        summary_metadata = metadata.create_summary_metadata(display_name=None, description=None)
        # The proto `tensor_util.make_tensor_proto` makes of a float32
        # scalar, built directly: 3 us against its 43 us.
        self._write(step, [
            (tag, tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                         float_val=[float(np.float32(value))]), summary_metadata)
            for tag, value in values.items()
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
        from tensorboard.compat.proto import tensor_pb2
        from tensorboard.util import tensor_util

        values = [
            summary_pb2.Summary.Value(
                tag=tag, metadata=meta,
                tensor=tensor if isinstance(tensor, tensor_pb2.TensorProto) else tensor_util.make_tensor_proto(tensor),
            )
            for tag, tensor, meta in entries
        ]
        self._writer.write(event_pb2.Event(
            wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values)
        ).SerializeToString())

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
    import tensorflow as tf
    from tensorboard.compat.proto import event_pb2

    removed = 0
    for path in sorted(glob.glob(os.path.join(os.fspath(log_dir), "events.out.tfevents.*" + FILENAME_SUFFIX))):
        records = list(_records(path))
        kept = [r for r in records if not event_pb2.Event.FromString(r).step > step]
        removed += len(records) - len(kept)
        # Rewritten even when nothing is removed: a writer of an interrupted
        # fit may still hold the old file open, and what it flushes later
        # must not land in the file TensorBoard reads.
        tmp = path + ".tmp"
        with tf.io.TFRecordWriter(tmp) as writer:
            for record in kept:
                writer.write(record)
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
