"""Cross-backend parity: from the same initial weights, real batches and
noise, every backend reaches the same losses and the same weights, element
by element. The golden numbers were produced by this file's `__main__` on
the TensorFlow backend; JAX and PyTorch reproduce every element within the
float32 tolerance RTOL, ATOL (largest measured difference: 2e-7)."""

import keras
import numpy as np

from tests.conftest import FixedNoiseWGAN, read_counters, to_numpy

N_CRITIC, BATCH, STEPS, LATENT = 2, 4, 3, 4
# Float32 tolerance for every golden number: |got - golden| <= ATOL + RTOL * |golden|.
RTOL, ATOL = 2e-5, 2e-6


def parity_models():
    """Tiny DCGAN-like networks with batch normalization in both (the
    generator's moving statistics are compared too), small enough that every
    weight is a golden number."""
    generator = keras.Sequential(
        [
            keras.Input((LATENT,)),
            keras.layers.Dense(2 * 2 * 4, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Reshape((2, 2, 4)),
            keras.layers.Conv2DTranspose(1, 4, strides=4, padding="same", activation="tanh"),
        ]
    )
    critic = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 4, strides=2, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    return generator, critic


def run_parity_training():
    rng = np.random.default_rng(42)
    generator, critic = parity_models()
    for model in (generator, critic):
        model.set_weights(
            [rng.normal(scale=0.2, size=w.shape).astype("float32") for w in model.get_weights()]
        )
    real = rng.uniform(-1, 1, size=(STEPS * N_CRITIC * BATCH, 8, 8, 1)).astype("float32")
    noise = rng.normal(size=(STEPS * (N_CRITIC + 1), BATCH, LATENT)).astype("float32")
    wgan = FixedNoiseWGAN(generator, critic, latent_dim=LATENT, n_critic=N_CRITIC, clip_value=0.25, noise=noise)
    wgan.compile(
        generator_optimizer=keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16),
        critic_optimizer=keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-16),
    )
    history = wgan.fit(real, batch_size=N_CRITIC * BATCH, shuffle=False, verbose=0)
    logs = {k: float(v[-1]) for k, v in history.history.items()}
    # The counters are model variables (not logs); the golden numbers keep them.
    logs["generator_iterations"], logs["critic_iterations"] = read_counters(wgan)
    logs = dict(sorted(logs.items()))
    # Every element of every variable, in `model.weights` order (batch-norm
    # moving statistics included), flattened.
    logs["generator_weights"] = [to_numpy(v).ravel().tolist() for v in generator.weights]
    logs["critic_weights"] = [to_numpy(v).ravel().tolist() for v in critic.weights]
    return logs


def assert_matches_golden(logs, golden):
    assert set(golden) <= set(logs), sorted(set(golden) - set(logs))
    for key, expected in golden.items():
        if key.endswith("_weights"):
            assert len(logs[key]) == len(expected), key
            for i, (got, want) in enumerate(zip(logs[key], expected)):
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"{key}[{i}]")
        else:
            np.testing.assert_allclose(logs[key], expected, rtol=RTOL, atol=ATOL, err_msg=key)


def golden_source(logs, digits=7):
    """The golden dictionary as Python source, `digits` significant digits."""
    def number(x):
        return f"{x:.{digits}g}" if isinstance(x, float) else repr(x)

    lines = ["{"]
    for key, value in logs.items():
        if isinstance(value, list):
            lines.append(f"    {key!r}: [")
            for variable in value:
                cells = [number(x) + "," for x in variable]
                rows, row = [], "        ["
                for cell in cells:
                    if len(row) + len(cell) + 1 > 99:
                        rows.append(row.rstrip())
                        row = "         "
                    row += cell + " "
                rows.append(row.rstrip()[:-1] + "],")
                lines.extend(rows)
            lines.append("    ],")
        else:
            lines.append(f"    {key!r}: {number(value)},")
    lines.append("}")
    return "\n".join(lines)


# Produced by `python -m tests.test_parity` on the TensorFlow backend. JAX and
# PyTorch reproduced every number within 2e-7 (about a tenth of the tolerance).
GOLDEN = {
    'critic_iterations': 6,
    'critic_loss': -0.01024459,
    'generator_iterations': 3,
    'generator_loss': 0.03491865,
    'wasserstein_estimate': 0.01024459,
    'generator_weights': [
        [0.03218243, -0.2045671, 0.157712, 0.1933358, -0.3709933, -0.2627811, 0.03632484,
         -0.03531675, -0.01273763, -0.1607969, 0.166331, 0.1554439, 0.004257397, 0.2153621,
         0.09350187, -0.1718585, 0.07715365, -0.1848233, 0.1754596, 0.01367431, -0.05576772,
         -0.137612, 0.261797, -0.05654531, -0.06757006, -0.06275296, 0.1162595, 0.0864692,
         0.1061676, 0.0963035, 0.4283295, -0.081283, -0.1269301, -0.1721039, 0.1203987, 0.241481,
         -0.0427786, -0.1415296, -0.1532559, 0.1518957, 0.15002, 0.1175155, -0.1415555,
         0.02699429, 0.01862133, 0.0336022, 0.1742858, 0.04471911, 0.1111185, 0.007007068,
         0.05642509, 0.1307096, -0.3082944, -0.06655926, -0.07459269, -0.1061303, -0.06140944,
         0.3271551, -0.1434685, 0.1878634, -0.3172002, -0.07724417, 0.03255061, 0.1172445],
        [0.1239344, 0.1393191, -0.0919373, -0.1132414, 0.1882094, -0.03800995, -0.2812407,
         -0.2526051, -0.1582609, 0.1217773, 0.03288293, 0.1174483, -0.105155, 0.02204152,
         0.1251181, -0.06186931],
        [0.06865823, -0.1519524, -0.05046215, -0.05341836, -0.2224087, 0.07481841, -0.06853644,
         0.02640821, 0.07381246, 0.1123431, 0.1546809, -0.0376035, -0.06470726, -0.02577671,
         -0.3374669, -0.2894225],
        [-0.2453599, -0.1798809, 0.07068492, -0.1747389, -0.0493928, 0.2444412, -0.05803484,
         0.1391131, -0.1706452, -0.04191795, -0.1717661, -0.0708743, 0.1643334, -0.3187561,
         0.08514061, 0.04399909],
        [-0.1071441, -0.2565835, 0.01823233, -0.09099731, 0.05230187, 0.01067374, 0.299184,
         -0.04208912, -0.1853913, 0.0401831, 0.04521502, 0.2514186, 0.1589451, 0.06861135,
         0.2862616, -0.214334],
        [-0.1066252, -0.1631406, -0.05277993, -0.2516459, 0.1016613, -0.04531324, -0.3031063,
         -0.1800046, 0.08901928, 0.1908941, 0.4251752, 0.6056654, 0.0620589, -0.2213317,
         -0.4486603, 0.03484524, -0.1805189, -0.05456415, -0.09809303, -0.03924908, 0.1921388,
         0.03815261, -0.007122431, -0.2349826, -0.3140637, -0.1198493, -0.03413271, 0.3615842,
         0.01043129, 0.1790894, -0.1190057, -0.243679, -0.171488, -0.1218301, 0.4499688,
         -0.1393701, 0.1422826, -0.1610976, 0.2093111, 0.1014599, -0.04999273, 0.01700409,
         -0.1045231, 0.08149377, -0.1097209, -0.2652444, -0.2764209, 0.008435152, 0.3370651,
         0.05391256, 0.000798862, 0.07974225, 0.2819561, 0.06682961, -0.05779364, 0.2475508,
         0.1081506, 0.2848837, 0.01109204, -0.2675147, -0.2892133, 0.3086228, 0.3167457,
         -0.06154406],
        [-0.05157758],
    ],
    'critic_weights': [
        [0.25, -0.2039351, -0.2133168, 0.1532302, -0.1129824, 0.03192917, -0.07025293, 0.06849029,
         0.2336623, 0.03212901, 0.1193438, -0.2459434, -0.02242037, -0.1243846, -0.25, -0.1842514,
         -0.08116215, 0.1829299, -0.2308134, 0.0266652, -0.110672, -0.04409095, 0.1719482,
         0.07019705, 0.2165019, -0.06547098, -0.1051346, -0.04947964, 0.03857762, 0.0398722,
         -0.244954, -0.01543753],
        [0.05473661, 0.2370569],
        [0.25, -0.2070194],
        [-0.0487944, -0.2494198],
        [-0.09550751, 0.05782293],
        [0.2113755, -0.1559865, -0.1476198, -0.2432084, -0.01856518, -0.2091554, -0.06914846,
         -0.1359378, -0.04437086, -0.2187418, -0.242926, 0.25, -0.226333, -0.198038, 0.2499065,
         0.227925, -0.25, -0.06771885, 0.03330733, 0.25, -0.1647367, -0.0132271, 0.1692888,
         0.1075265, -0.1094291, -0.02695292, -0.2389153, -0.05441467, -0.02291492, 0.03198528,
         -0.1097221, 0.1169246],
        [0.2025432],
    ],
}


def test_backends_agree_with_golden_numbers():
    assert_matches_golden(run_parity_training(), GOLDEN)


if __name__ == "__main__":
    print(golden_source(run_parity_training()))
