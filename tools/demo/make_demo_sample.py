#!/usr/bin/env python3
"""Cut the demo catalog's images out of Debian's dataset-fashion-mnist (test split).

Writes packages/core/demo/fashion-sample-{images-idx3,labels-idx1}-ubyte.gz: the first N test images
and their labels, in Fashion-MNIST's own IDX format, so `npm start` can seed a demo catalog on a
machine without the Debian package. The test split is used because the bundled model was
trained on the train split: demo searches run on images the model has never seen.

    /usr/bin/python3 tools/demo/make_demo_sample.py [N=3000]
"""
import gzip
import struct
import sys
from pathlib import Path

SRC = Path('/usr/share/datasets/fashion-mnist')
OUT = Path(__file__).resolve().parents[2] / 'apps' / 'api' / 'demo'


def main(n: int) -> None:
    images = gzip.open(SRC / 't10k-images-idx3-ubyte.gz').read()
    labels = gzip.open(SRC / 't10k-labels-idx1-ubyte.gz').read()
    magic, count, rows, cols = struct.unpack('>IIII', images[:16])
    assert magic == 2051 and rows == 28 and cols == 28, 'unexpected image file'
    assert struct.unpack('>II', labels[:8]) == (2049, count), 'unexpected label file'
    n = min(n, count)
    OUT.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives byte-identical files.
    with gzip.GzipFile(OUT / 'fashion-sample-images-idx3-ubyte.gz', 'wb', mtime=0) as f:
        f.write(struct.pack('>IIII', 2051, n, 28, 28) + images[16:16 + n * 784])
    with gzip.GzipFile(OUT / 'fashion-sample-labels-idx1-ubyte.gz', 'wb', mtime=0) as f:
        f.write(struct.pack('>II', 2049, n) + labels[8:8 + n])
    print(f'wrote {n} images to {OUT}')


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
