"The widget building blocks, without a browser (tests/test_browser.py drives them in Chromium)."
import re
import numpy as np, pytest, torch
from world_models.vae import ConvVAE
from world_models.widgets import LatentExplorer, active_dims, data_uri, frames_html, latent_traversal_html, traversal_frames

def test_frames_html_is_self_contained():
    frames = [np.full((8, 8, 3), v, np.uint8) for v in (0, 100, 200)]
    h = frames_html({'a': frames, 'b': frames}, labels=['x', 'y', 'z'], title='<t>')
    assert h.count('data:image/jpeg;base64,') == 7  # six in the script, and the first shown in the <img> without it
    assert re.search(r'<img src="data:image/jpeg;base64,', h) and '<span class="wm-label">y</span>' in h
    assert not re.search(r'(src|href)="https?:', h) and '<script src' not in h
    assert '&lt;t&gt;' in h  # titles are escaped
    with pytest.raises(ValueError, match='no sequences'): frames_html({})
    with pytest.raises(ValueError, match='uint8'): data_uri(np.zeros((8, 8, 3)))

def test_traversal_moves_only_one_dimension():
    torch.manual_seed(0); vae = ConvVAE(32)
    frame = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    seqs, labels = traversal_frames(vae, frame, [3, 5], span=2.5, steps=5)
    assert list(seqs) == ['z[3]', 'z[5]'] and labels == ['-2.5', '-1.2', '+0.0', '+1.2', '+2.5']
    np.testing.assert_array_equal(seqs['z[3]'][2], seqs['z[5]'][2])  # offset 0: both are the frame's own decoding
    assert not np.array_equal(seqs['z[3]'][0], seqs['z[3]'][4])
    dims = active_dims(vae, np.zeros(32, np.float32), k=32)
    assert sorted(dims) == list(range(32))

def test_latent_explorer_decodes_live():
    torch.manual_seed(0); vae = ConvVAE(32)
    frames = np.random.default_rng(1).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    ex = LatentExplorer(vae, frames, dims=[0, 1, 2])
    first = ex.image.value
    ex.sliders[1].value = -2.5; moved = ex.image.value
    assert moved != first
    ex.sliders[1].value = 0.; assert ex.image.value == first
    ex.pick.value = 3; assert ex.orig.value != first and all(s.value == 0 for s in ex.sliders)
