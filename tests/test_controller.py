"C: paper parameter counts, action mappings, flat vectors and the batched population."
from dataclasses import asdict
import numpy as np, pytest, torch
from world_models.controller import CONTROLLERS, Controller, Population, car_actions, controller_input, doom_actions
from world_models.envs import car_action

@pytest.mark.parametrize('key, n', [('carracing', 867), ('doom', 1088), ('carracing-v', 99), ('carracing-vh', 1443)])
def test_parameter_counts_match_the_paper(key, n):
    c = Controller(**asdict(CONTROLLERS[key]))
    assert c.n_params == n and len(c.get_flat()) == n and not any(p.requires_grad for p in c.parameters())
    assert (c.fc.bias is None) == (key == 'doom')

def test_action_mappings():
    y = torch.tensor([[0., 0., 0.], [10., 10., 10.], [-10., -10., -10.]])
    torch.testing.assert_close(car_actions(y), torch.tensor([[0., .5, 0.], [1., 1., 1.], [-1., 0., 0.]]))
    y = torch.randn(50, 3) * 3
    np.testing.assert_allclose(car_actions(y).numpy(), car_action(y.numpy()), atol=1e-6)
    t = torch.atanh(torch.tensor([[-0.34], [-0.32], [0.32], [0.34]]))
    assert doom_actions(t)[:, 0].tolist() == [-1., 0., 0., 1.]

def test_flat_roundtrip_and_population_equals_single_controllers():
    cfg = CONTROLLERS['doom']; rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 1088)); x = torch.from_numpy(rng.normal(size=(6, 4, 1088)).astype(np.float32))
    single = torch.stack([Controller(**asdict(cfg)).set_flat(X[p])(x[p]) for p in range(6)])
    torch.testing.assert_close(Population(X, cfg)(x), single, atol=1e-4, rtol=1e-5)
    c = Controller(**asdict(cfg)).set_flat(X[2]); np.testing.assert_allclose(c.get_flat(), X[2], atol=1e-6)
    with pytest.raises(ValueError, match=r'expected shape \(1088,\)'): c.set_flat(X[2, :-1])
    with pytest.raises(ValueError, match=r'\(P, 1088\)'): Population(X[:, :10], cfg)

def test_controller_input_order_is_z_c_h_for_doom():
    z, h, c = torch.full((1, 2), 1.), torch.full((1, 3), 3.), torch.full((1, 3), 2.)
    assert controller_input(z, h, c, 'zch').tolist() == [[1., 1., 2., 2., 2., 3., 3., 3.]]
    assert controller_input(z, h, c, 'zh').shape == (1, 5)
