"""The tutorial's script for one variant, as it is published (the reference).

Three changes: ``lr=`` is ``learning_rate=`` (its code no longer runs on
Keras 3); the figure is saved to a file instead of ``pyplot.show()`` so it
runs unattended (run it with ``MPLBACKEND=Agg``); and with a seed count N it
repeats define-fit-evaluate-plot N times in the one process, the tutorial's
code path for N seeds. Numpy arrays into ``Sequential.fit``, no logging.
EPOCHS (the tutorial's 100 unless given) shortens a smoke run of the benchmark.

    MPLBACKEND=Agg python bench/tutorial.py {baseline,bn_after,bn_before} [N [EPOCHS]]
"""

import sys

from keras.layers import Activation, BatchNormalization, Dense
from keras.models import Sequential
from keras.optimizers import SGD
from matplotlib import pyplot
from sklearn.datasets import make_circles

variant = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 100
# generate 2d classification dataset
X, y = make_circles(n_samples=1000, noise=0.1, random_state=1)
# split into train and test
n_train = 500
trainX, testX = X[:n_train, :], X[n_train:, :]
trainy, testy = y[:n_train], y[n_train:]
for _ in range(repeats):
    # define model
    model = Sequential()
    if variant == "bn_before":
        model.add(Dense(50, input_dim=2, kernel_initializer="he_uniform"))
        model.add(BatchNormalization())
        model.add(Activation("relu"))
    else:
        model.add(Dense(50, input_dim=2, activation="relu", kernel_initializer="he_uniform"))
        if variant == "bn_after":
            model.add(BatchNormalization())
    model.add(Dense(1, activation="sigmoid"))
    opt = SGD(learning_rate=0.01, momentum=0.9)
    model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
    # fit model
    history = model.fit(trainX, trainy, validation_data=(testX, testy), epochs=epochs, verbose=0)
    # evaluate the model
    _, train_acc = model.evaluate(trainX, trainy, verbose=0)
    _, test_acc = model.evaluate(testX, testy, verbose=0)
    print("Train: %.3f, Test: %.3f" % (train_acc, test_acc))  # noqa: UP031 (as published)
    # plot history
    pyplot.plot(history.history["accuracy"], label="train")
    pyplot.plot(history.history["val_accuracy"], label="test")
    pyplot.legend()
    pyplot.savefig("/dev/null", format="png")
    pyplot.close()
