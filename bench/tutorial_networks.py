"""The tutorial's code path for its CNN and LSTM fragments (the reference).

The tutorial shows these only as fragments; this is them completed as its
MLP script is written (``bench/tutorial.py``): numpy arrays into
``Sequential.fit``, one model per seed in one process, no logging. The
models are bnlab's (``src/bnlab/model/network_plans.py``), written out the
tutorial's way, on scikit-learn's digits: first 1200 rows train, the rest
test. EPOCHS (30 unless given) shortens a smoke run of the benchmark.

    python bench/tutorial_networks.py {cnn,lstm} {baseline,bn_after,bn_before} [N [EPOCHS]]
"""

import sys

from keras.layers import (
    LSTM,
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    Input,
    MaxPooling2D,
    Rescaling,
)
from keras.models import Sequential
from keras.optimizers import SGD
from sklearn.datasets import load_digits

network, variant = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 30
# load the digits: 8x8 images, pixel values 0-16
X, y = load_digits(return_X_y=True)
X = X.reshape(-1, 8, 8, 1) if network == "cnn" else X.reshape(-1, 8, 8)
# split into train and test
n_train = 1200
trainX, testX = X[:n_train], X[n_train:]
trainy, testy = y[:n_train], y[n_train:]
for _ in range(repeats):
    # define model
    model = Sequential()
    model.add(Input(shape=trainX.shape[1:]))
    model.add(Rescaling(1 / 16))
    if network == "cnn":
        model.add(Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform"))
        if variant == "bn_before":
            model.add(Conv2D(32, (3, 3), kernel_initializer="he_uniform"))
            model.add(BatchNormalization())
            model.add(Activation("relu"))
        else:
            model.add(Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform"))
            if variant == "bn_after":
                model.add(BatchNormalization())
        model.add(MaxPooling2D())
        model.add(Flatten())
    else:
        model.add(LSTM(32))
        if variant == "bn_after":
            model.add(BatchNormalization())
    model.add(Dense(10, activation="softmax"))
    opt = SGD(learning_rate=0.01, momentum=0.9)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=opt, metrics=["accuracy"])
    # fit model
    model.fit(trainX, trainy, validation_data=(testX, testy), epochs=epochs, verbose=0)
    # evaluate the model
    _, train_acc = model.evaluate(trainX, trainy, verbose=0)
    _, test_acc = model.evaluate(testX, testy, verbose=0)
    print("Train: %.3f, Test: %.3f" % (train_acc, test_acc))  # noqa: UP031 (as bench/tutorial.py)
