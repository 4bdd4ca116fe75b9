"The course's CMA-ES against pycma, and the optimiser's contract (seeding, checkpoints, costs)."
import numpy as np, pytest
from world_models.cmaes import CMAES, PycmaES, ellipsoid, make_es, minimize, reward_to_cost, rosenbrock

@pytest.mark.parametrize('f, n, seeds', [(ellipsoid, 30, (0, 1)), (rosenbrock, 10, (0, 1, 2))])
def test_generations_to_1e8_within_1_5x_of_pycma(f, n, seeds):
    "Same start (x0 = 0.5, sigma = 0.3, lambda = 16); median generations to f < 1e-8 over seeds."
    own = [len(minimize(CMAES(np.full(n, 0.5), 0.3, 16, seed=s), f, max_gens=6000)) for s in seeds]
    ref = [len(minimize(PycmaES(np.full(n, 0.5), 0.3, 16, seed=s), f, max_gens=6000)) for s in seeds]
    assert max(own + ref) < 6000, (own, ref)  # every run reached the target
    assert np.median(own) <= 1.5 * np.median(ref), (own, ref)

def test_first_generation_is_an_isotropic_gaussian_around_x0():
    X = CMAES(np.arange(4.), 0.2, popsize=4000, seed=3).ask()
    np.testing.assert_allclose(X.mean(0), np.arange(4.), atol=0.02)
    np.testing.assert_allclose(np.cov(X.T), 0.04 * np.eye(4), atol=0.005)

def test_learns_the_shape_of_an_elongated_valley():
    "After converging on a rotated ellipse, C's long axis lines up with the valley (as pycma's does)."
    R = np.array([[np.cos(0.5), -np.sin(0.5)], [np.sin(0.5), np.cos(0.5)]])
    f = lambda X: ellipsoid(np.atleast_2d(X) @ R * [1, 1])
    es = CMAES(np.ones(2), 0.5, seed=0)
    for _ in range(60): X = es.ask(); es.tell(X, f(X))
    es.update_eigen(force=True)
    long_axis = es.B[:, np.argmax(es.D)]
    assert abs(long_axis @ R[:, 0]) > 0.99  # the direction the ellipsoid does not penalise much

def test_checkpoint_resumes_exactly_and_refuses_other_sizes():
    a = CMAES(np.zeros(8), 0.3, seed=1)
    for _ in range(30): X = a.ask(); a.tell(X, rosenbrock(X))
    b = CMAES(np.zeros(8), 0.3, seed=2); b.load_state_dict({k: v.copy() for k, v in a.state_dict().items()})
    for _ in range(20):
        Xa, Xb = a.ask(), b.ask(); np.testing.assert_array_equal(Xa, Xb)
        a.tell(Xa, rosenbrock(Xa)); b.tell(Xb, rosenbrock(Xb))
    with pytest.raises(ValueError, match='dimension'): CMAES(np.zeros(3)).load_state_dict(a.state_dict())
    p = PycmaES(np.zeros(5), 0.3, 8, seed=1)  # pycma's state exists only as a pickle: never stored, never loaded
    assert all(v.dtype != object for v in p.state_dict().values())
    with pytest.raises(ValueError, match='cannot resume from disk'): PycmaES(np.zeros(5), 0.3, 8).load_state_dict(p.state_dict())

def test_tell_checks_its_input_and_costs_negate_rewards():
    es = make_es('course', np.zeros(4), 0.1, 6)
    X = es.ask()
    with pytest.raises(ValueError, match=r'expected X \(6, 4\)'): es.tell(X[:5], np.zeros(5))
    with pytest.raises(ValueError, match='NaN'): es.tell(X, np.full(6, np.nan))
    with pytest.raises(ValueError, match="optimizer='cmaes'"): make_es('cmaes', np.zeros(4), 0.1, 6)
    c = reward_to_cost(np.array([5., 5.]), np.array([[0., 0.], [2., 2.]]), weight_decay=0.1)
    np.testing.assert_allclose(c, [-5., -5. + 0.4])  # large weights cost more, never less
