"""Write the problem files of models/alkane_chains/ (run from the repository root).

``python models/alkane_chains/make_models.py`` writes ``transferable.toml`` (model b),
``transferable_n12.toml`` (b with n fixed at 12), ``pooled.toml`` (model c: epsilon
and sigma partially pooled over the molecules), ``trend.toml`` (model d: c with a trend
in carbon number),
``per_molecule.toml`` (the base of model a) and ``per_molecule_sweep.toml`` (model a, a
sweep over the molecules). The files are committed; this script is how they were made,
so that the forty targets of a transferable model are not typed by hand.

Segments per molecule: m = 1 + (C - 1)/3 for a molecule of C carbon atoms, the
empirical rule of the SAFT literature for the n-alkanes (docs/chains.md cites it).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (name, carbon number) of the molecules, data in data/alkanes/.
MOLECULES = (
    ("methane", 1),
    ("ethane", 2),
    ("propane", 3),
    ("n_butane", 4),
    ("n_pentane", 5),
    ("n_hexane", 6),
    ("n_heptane", 7),
    ("n_octane", 8),
    ("n_decane", 10),
    ("n_dodecane", 12),
)
TRAIN = {
    "methane",
    "ethane",
    "propane",
    "n_butane",
    "n_pentane",
    "n_hexane",
    "n_heptane",
    "n_octane",
}

#: property -> (target prefix, observable, data file stem, uncertainty column, tolerance)
PROPERTIES = (
    ("rho_l", "saturated_liquid_density", "saturation", "u_rho_l_mol_per_L", 0.02),
    ("p_sat", "vapour_pressure", "saturation", "u_p_sat_MPa", 0.10),
    ("dH_vap", "enthalpy_of_vaporisation", "saturation", "u_dH_vap_kJ_per_mol", 0.05),
    ("rho_comp", "compressed_liquid_density", "compressed", "u_rho_mol_per_L", 0.02),
)
TRAINED_PROPERTIES = ("rho_l", "p_sat")
#: The held-out enthalpy of vaporisation of the transferable models starts at n-butane:
#: the rows of C1-C3 reach their triple points, T* = T k_B / epsilon < 0.3 (outside the
#: SAFT-VR Mie EOS's validated range) for the segment epsilon/k_B of about 300 K that the
#: longer chains need, so a prior centre that admits every row does not exist.
LOWEST_DH_VAP_CARBON = 4


def segments(carbon: int) -> float:
    """Tangent segments of an n-alkane of ``carbon`` carbon atoms: 1 + (C - 1)/3."""
    return 1.0 + (carbon - 1) / 3.0


def _num(x: float) -> str:
    return repr(float(x))


#: The segment energy of the transferable models: epsilon/k_B's prior median 295 K, or
#: for ``mie_chain_vdw`` (model b) the van der Waals energy alpha(n, 6) epsilon of the
#: same epsilon at the centre of n's prior, n = 16 (alpha(16, 6) = 0.73899): 218.0 K.
#: (The problem checks its rows against the EOS's range at the prior centre, so the
#: centre in epsilon is what matters: at T* < 0.3 the EOS is not validated.)
EPSILON = {
    "mie_chain": ("epsilon", "epsilon / k_B per segment", 295.0),
    "mie_chain_vdw": ("epsilon_vdw", "alpha(n, 6) epsilon / k_B per segment", 218.0),
}


def _parameters(n_fixed: float | None, segments_value: float, kind: str = "mie_chain") -> str:
    n = (
        f"value = {_num(n_fixed)}"
        if n_fixed is not None
        else 'prior = { dist = "Uniform", low = 8.0, high = 24.0 }'
    )
    name, what, median = EPSILON[kind]
    return f"""[parameters.{name}]
unit = "K"                            # {what}
prior = {{ dist = "LogNormal", median = {_num(median)}, scale = 0.15 }}

[parameters.sigma]
unit = "angstrom"
prior = {{ dist = "LogNormal", median = 4.0, scale = 0.15 }}

[parameters.n]
unit = "1"
{n}

[parameters.m]
unit = "1"
value = 6.0

[parameters.segments]
unit = "1"
value = {_num(segments_value)}
"""


def _target(name, observable, data, noise, train, inadequacy, fixed=None, group=None) -> str:
    lines = [
        "[[targets]]",
        f'name = "{name}"',
        f'observable = "{observable}"',
        f'data = "{data}"',
        f'noise = {{ column = "{noise}" }}',
    ]
    if not train:
        lines.append("train = false")
    elif "saturation" in data:
        # 0.5-0.9 Tc: below, T* = T k_B / epsilon of the short chains leaves the EOS's
        # validated range (T* >= 0.3) for epsilon/k_B above about 300 K
        lines.append("train = { T_over_Tc = [0.5, 0.9] }")
    if fixed is not None:
        lines.append(f"fixed = {{ segments = {_num(fixed)} }}")
    if group is not None:
        lines.append(f'group = "{group}"')
    # a shared scale serves the targets without training rows too (held-out molecules)
    if inadequacy and (train or "shared" in inadequacy):
        lines.append(f"inadequacy = {inadequacy}")
    return "\n".join(lines) + "\n"


def _inference(chains=4, warmup=500, samples=500, laplace_mass=False, laplace=False) -> str:
    # the many-parameter models (b, b12, c: 19-37 latent dimensions with an inferred
    # scale per target) keep the Laplace start's dense mass matrix and adapt only the step
    # size: NUTS's windowed warm-up estimates a dense matrix from a first window of 25
    # draws, singular or nearly so in as many dimensions (model c stalled at the largest
    # tree depth right after it), and a diagonal one misses the coupling of every
    # molecule through the shared n (model c ran at 3-6 s per iteration with it)
    # laplace_mass implies the Laplace start; laplace alone adapts the matrix in warm-up
    fixed = 'init = "laplace"\n' if laplace or laplace_mass else ""
    fixed += "adapt_mass = false\n" if laplace_mass else ""
    return f"""[inference]
chains = {chains}
warmup = {warmup}
samples = {samples}
seed = 0
{fixed}"""


#: Inadequacy of (b) and (b12): one segment type misses the vapour pressures of C1-C8 by
#: factors of two (docs/chains.md), so their error is multiplicative (`form = "log"`, a
#: log-normal of y); the liquid densities' (17 % RMS at the least-squares optimum of b)
#: stay relative. One scale per property, shared by the molecules (`shared`): with a
#: scale per molecule the posterior had two regimes, one molecule's vapour pressure fitted
#: within the EOS's floor (its tau near zero, epsilon pinned to 0.1 %) or not, and the
#: chains of (b12) did not mix between them (R-hat 1.38); a held-out molecule predicts
#: with the shared scale.
TRANSFERABLE_INADEQUACY = {
    "rho_l": '{ kind = "inferred_scale", form = "relative", prior_scale = 0.2, shared = "rho_l" }',
    "p_sat": '{ kind = "inferred_scale", form = "log", prior_scale = 1.0, shared = "p_sat" }',
}


def transferable(
    name: str,
    description: str,
    header: str,
    molecules=MOLECULES,
    train=TRAIN,
    n_fixed: float | None = None,
    inadequacy: str | dict = TRANSFERABLE_INADEQUACY,
    properties=PROPERTIES,
    data_root: str = "data/alkanes",
    inference: str | None = None,
    pooling: str | None = None,
    kind: str = "mie_chain",
) -> str:
    """A transferable model: one target per molecule and property, shared parameters
    (with ``pooling``, the text of a ``[pooling]`` section: each molecule a group;
    ``kind``, the potential: ``mie_chain`` or ``mie_chain_vdw``)."""
    out = [header.rstrip() + "\n"]
    out.append(f'[problem]\nname = "{name}"\ndescription = "{description}"\n')
    out.append(f'[potential]\nkind = "{kind}"\ncutoff = {{ scheme = "none" }}\n')
    out.append(_parameters(n_fixed, 1.0, kind))
    if pooling is not None:
        out.append(pooling)
    tol = []
    for mol, carbon in molecules:
        for prefix, obs, stem, noise, rel in properties:
            if prefix == "dH_vap" and carbon < LOWEST_DH_VAP_CARBON:
                continue
            tname = f"{prefix}_c{carbon}"
            trained = mol in train and prefix in TRAINED_PROPERTIES
            out.append(
                _target(
                    tname,
                    obs,
                    f"{data_root}/{stem}_{mol}.csv",
                    noise,
                    trained,
                    inadequacy.get(prefix) if isinstance(inadequacy, dict) else inadequacy,
                    fixed=segments(carbon),
                    group=f"c{carbon}" if pooling is not None else None,
                )
            )
            tol.append(f"{tname} = {{ rel = {rel} }}")
    out.append("[transferability.tolerance]\n" + "\n".join(tol) + "\n")
    out.append(inference or _inference(laplace_mass=True))
    return "\n".join(out)


HEADER_B = """# Model (b): one transferable Mie-chain model for the n-alkanes (docs/chains.md).
#
# Written by models/alkane_chains/make_models.py. Shared segment parameters epsilon,
# sigma and the repulsive exponent n (attractive exponent m = 6) for every molecule; the
# segment count of each molecule is fixed per target by the rule m_s = 1 + (C - 1)/3
# (`fixed = { segments = ... }`). Trained: the saturated liquid density and the vapour
# pressure of methane to n-octane (C1-C8; data/alkanes/, CoolProp reference equations,
# provenance in data/manifest.toml). Held out: n-decane and n-dodecane (every property),
# the enthalpy of vaporisation and the compressed-liquid density of every molecule.
# Inadequacy: one inferred scale per property shared by the molecules (`shared`; the
# held-out molecules predict with it), relative for rho_l (as models/argon_lj_vle.toml)
# and multiplicative (form = "log") for p_sat, which one segment type misses by factors
# of two.
"""
HEADER_N12 = HEADER_B.replace(
    "# Model (b): one transferable", "# Model (b), n fixed at 12: one transferable"
)
#: (b) samples the van der Waals energy in place of epsilon (docs/chains.md)
HEADER_B += """#
# Potential `mie_chain_vdw`: the same chain with epsilon_vdw = alpha(n, 6) epsilon
# sampled in place of epsilon (epsilon = epsilon_vdw / alpha). The VLE posterior's
# ridge in (epsilon, n), epsilon rising 25 K per unit of n, is one of nearly constant
# epsilon_vdw (0.2 % over n = 6.6-9), so the sampler's coordinates are nearly
# independent; in (epsilon, n) no mass matrix followed the ridge (R-hat 1.09).
"""
HEADER_C = """# Model (c): the Mie-chain model with partially pooled segment parameters
# (docs/chains.md).
#
# Written by models/alkane_chains/make_models.py. As model (b) (transferable.toml), but
# each molecule is a group (`group = "cN"`) with its own epsilon and sigma drawn around
# shared values: theta_C = theta exp(eta_C), eta_C ~ Normal(0, omega), omega ~
# HalfNormal(0.2) per parameter ([pooling]); n is shared (make_models.py says why).
# Trained: rho_l and p_sat of C1-C8, which pin each molecule's own values; n-decane
# and n-dodecane have no training rows, so they are predicted from the population (a
# new eta per draw). Inadequacy: an inferred relative scale per trained target with
# prior scale 0.05, as model (a), since each molecule has its own parameters.
"""
#: epsilon and sigma are pooled; n is shared. Pooled too, n stalled the warm-up (2026-11-26,
#: iteration 213 of 1000 unfinished after 4 minutes): each molecule pins its n only to
#: about 4 % (model a), no better than n's spread between molecules, so the centred
#: eta of n and its omega form a funnel; epsilon and sigma are pinned to 2 % and 0.1 %
#: against spreads of 18 % and 3 %.
POOLING = """[pooling]
parameters = ["epsilon", "sigma"]
prior_scale = 0.2                     # HalfNormal scale of each omega (log-deviation)
"""
HEADER_D = """# Model (d): one transferable Mie-chain model whose segment parameters follow trends
# along the series (docs/chains.md).
#
# Written by models/alkane_chains/make_models.py. Each molecule is a group whose epsilon
# and sigma lie on a trend in a covariate of the molecule,
# theta_C = theta exp(b (x_C - mean x)), b ~ Normal(0, 1) ([pooling] covariate,
# trend_scale; prior_scale = 0: no spread about the trends); epsilon follows x = 1/C (the
# end groups' share of the chain), sigma follows x = 1/m_s (m_s = 1 + (C - 1)/3
# segments); make_models.py says how these were chosen. One shared n. Five parameters
# for ten molecules, as (b) has three. n-decane and n-dodecane have no training rows:
# they are predicted along the trends. Inadequacy: an inferred relative scale per
# trained target, prior scale 0.05 (as model (a) and (c)).
"""
#: Covariates of the trends of model (d), chosen on the training molecules only: a
#: straight line in ln theta through model (c)'s per-molecule posterior means of C1-C8
#: (docs/chains.md) left residuals (sd) of 0.8 % (epsilon on 1/C), 5.1 % (on 1/m_s),
#: 5.9 % (on ln C); 0.2 % (sigma on 1/m_s), 0.3 % (ln C), 0.7 % (1/C). Each parameter
#: takes the covariate with the smallest residual.
COVARIATES = {
    "epsilon": lambda carbon: 1.0 / carbon,
    "sigma": lambda carbon: 1.0 / segments(carbon),
}


def pooling_with_trend() -> str:
    """The ``[pooling]`` section of model (d): a trend per parameter, no spread about it.

    With a spread (prior_scale 0.2, as (c)) the first ten iterations of NUTS had not
    finished after 20 minutes (2026-11-26): about the trend each molecule's own epsilon
    scatters by 0.8 %, no more than its own data pin it, so the spread omega is barely
    identified and the centred group values and omega form a funnel.
    """
    out = [
        '[pooling]\nparameters = ["epsilon", "sigma"]',
        "prior_scale = 0.0                     # no spread: each molecule on the trends",
        "trend_scale = 1.0                     # Normal scale of each slope",
    ]
    for q, x in COVARIATES.items():
        values = ", ".join(f"c{carbon} = {_num(x(carbon))}" for _, carbon in MOLECULES)
        out.append(f"covariate.{q} = {{ {values} }}")
    return "\n".join(out) + "\n"


HEADER_A = """# Model (a): one molecule on its own (the per-molecule baseline), here methane.
#
# Written by models/alkane_chains/make_models.py; per_molecule_sweep.toml runs it for
# every molecule. Free: epsilon, sigma, n; segments fixed by m_s = 1 + (C - 1)/3.
# Trained: saturated liquid density and vapour pressure. Predicted (held out): the
# enthalpy of vaporisation and the compressed-liquid density.
"""


def per_molecule() -> str:
    mol, carbon = MOLECULES[0]
    out = [HEADER_A.rstrip() + "\n"]
    out.append(
        '[problem]\nname = "alkane_per_molecule"\ndescription = "Mie chain for one n-alkane"\n'
    )
    out.append('[potential]\nkind = "mie_chain"\ncutoff = { scheme = "none" }\n')
    out.append(_parameters(None, segments(carbon)))
    tol = []
    for prefix, obs, stem, noise, rel in PROPERTIES:
        trained = prefix in TRAINED_PROPERTIES
        out.append(
            _target(
                prefix,
                obs,
                f"data/alkanes/{stem}_{mol}.csv",
                noise,
                trained,
                '{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
            )
        )
        tol.append(f"{prefix} = {{ rel = {rel} }}")
    out.append("[transferability.tolerance]\n" + "\n".join(tol) + "\n")
    out.append(_inference())
    return "\n".join(out)


#: Prior median of epsilon/k_B (K) per molecule for model (a): a centre at which every
#: row is inside the EOS's validated range and below the model's critical temperature
#: (checked when the problem is built); chosen for that, not taken from a paper.
EPSILON_CENTRE_K = {1: 180.0, 2: 230.0, 3: 250.0}


def per_molecule_sweep() -> str:
    values = []
    for mol, carbon in MOLECULES:
        eps = EPSILON_CENTRE_K.get(carbon, 295.0)
        data = ", ".join(
            f'{prefix} = {{ data = "data/alkanes/{stem}_{mol}.csv" }}'
            for prefix, _, stem, _, _ in PROPERTIES
        )
        values.append(
            f'  {{ label = "c{carbon}", set = {{ parameters = {{ segments = {{ unit = "1", '
            f'value = {_num(segments(carbon))} }}, epsilon = {{ unit = "K", prior = {{ '
            f'dist = "LogNormal", median = {eps}, scale = 0.15 }} }} }}, '
            f"targets = {{ {data} }} }} }},"
        )
    return (
        "# Model (a) for every molecule: per_molecule.toml with each molecule's data and\n"
        "# segment count (m_s = 1 + (C - 1)/3). Written by make_models.py.\n"
        "# `bayesff sweep models/alkane_chains/per_molecule_sweep.toml`\n\n"
        '[sweep]\nname = "alkane_per_molecule"\n'
        'description = "Mie chain per n-alkane (C1-C8, C10, C12)"\n'
        'base = "per_molecule.toml"\n\n'
        '[[axes]]\nname = "molecule"\nvalues = [\n' + "\n".join(values) + "\n]\n"
    )


def main(argv=None) -> None:
    files = {
        # five latent dimensions with the shared scales: NUTS's warm-up adapts a dense
        # mass matrix from its draws. In (epsilon, sigma, n) neither it nor the Laplace
        # matrix at the mode mixed along n's pile-up at its lower bound (R-hat 1.09 and
        # 1.08, bulk ESS 37 and 42; docs/chains.md): (b) samples epsilon_vdw
        "transferable.toml": transferable(
            "alkane_transferable",
            "Transferable Mie chain, C1-C8 trained",
            HEADER_B,
            inference=_inference(laplace=True),
            kind="mie_chain_vdw",
        ),
        "transferable_n12.toml": transferable(
            "alkane_transferable_n12",
            "Transferable Mie chain, n fixed at 12, C1-C8 trained",
            HEADER_N12,
            n_fixed=12.0,
        ),
        "pooled.toml": transferable(
            "alkane_pooled",
            "Mie chain, segment parameters partially pooled over C1-C8",
            HEADER_C,
            inadequacy='{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
            pooling=POOLING,
        ),
        "trend.toml": transferable(
            "alkane_trend",
            "Mie chain, segment parameters on trends in 1/C and 1/m_s, C1-C8 trained",
            HEADER_D,
            inadequacy='{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
            pooling=pooling_with_trend(),
        ),
        "per_molecule.toml": per_molecule(),
        "per_molecule_sweep.toml": per_molecule_sweep(),
    }
    for name, text in files.items():
        (HERE / name).write_text(text)
        print(f"wrote {HERE / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
