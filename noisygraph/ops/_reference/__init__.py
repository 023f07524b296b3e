"""Pure-PyTorch (and, for the push ops, pure-Python) references of every noisygraph op, one
module per op family (:mod:`.diffusion`, :mod:`.coding_rate`, :mod:`.local_push`): the ground
truth the compiled kernels are tested against, and the path that runs when the compiled library
is absent or has no kernel for the tensors' device. They import nothing from noisygraph but
each other."""
