"""Write the problem files of models/alkane_chains/ (run from the repository root).

``python models/alkane_chains/make_models.py`` writes ``transferable.toml`` (model b),
``transferable_n12.toml`` (b with n fixed at 12),
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


def _parameters(n_fixed: float | None, segments_value: float) -> str:
    n = (
        f"value = {_num(n_fixed)}"
        if n_fixed is not None
        else 'prior = { dist = "Uniform", low = 8.0, high = 24.0 }'
    )
    return f"""[parameters.epsilon]
unit = "K"                            # epsilon / k_B per segment
prior = {{ dist = "LogNormal", median = 295.0, scale = 0.15 }}

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


def _target(name, observable, data, noise, train, inadequacy, fixed=None) -> str:
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
    if train and inadequacy:
        lines.append(f"inadequacy = {inadequacy}")
    return "\n".join(lines) + "\n"


def _inference(chains=4, warmup=500, samples=500) -> str:
    return f"""[inference]
chains = {chains}
warmup = {warmup}
samples = {samples}
seed = 0
"""


def transferable(
    name: str,
    description: str,
    header: str,
    molecules=MOLECULES,
    train=TRAIN,
    n_fixed: float | None = None,
    inadequacy: str = '{ kind = "inferred_scale", form = "relative", prior_scale = 0.2 }',
    properties=PROPERTIES,
    data_root: str = "data/alkanes",
    inference: str | None = None,
) -> str:
    """A transferable model: one target per molecule and property, shared parameters."""
    out = [header.rstrip() + "\n"]
    out.append(f'[problem]\nname = "{name}"\ndescription = "{description}"\n')
    out.append('[potential]\nkind = "mie_chain"\ncutoff = { scheme = "none" }\n')
    out.append(_parameters(n_fixed, 1.0))
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
                    inadequacy.replace("TARGET", f"c{carbon}"),
                    fixed=segments(carbon),
                )
            )
            tol.append(f"{tname} = {{ rel = {rel} }}")
    out.append("[transferability.tolerance]\n" + "\n".join(tol) + "\n")
    out.append(inference or _inference())
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
# Inadequacy: an inferred relative scale per trained target (as models/argon_lj_vle.toml).
"""
HEADER_N12 = HEADER_B.replace(
    "# Model (b): one transferable", "# Model (b), n fixed at 12: one transferable"
)
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
        "transferable.toml": transferable(
            "alkane_transferable", "Transferable Mie chain, C1-C8 trained", HEADER_B
        ),
        "transferable_n12.toml": transferable(
            "alkane_transferable_n12",
            "Transferable Mie chain, n fixed at 12, C1-C8 trained",
            HEADER_N12,
            n_fixed=12.0,
        ),
        "per_molecule.toml": per_molecule(),
        "per_molecule_sweep.toml": per_molecule_sweep(),
    }
    for name, text in files.items():
        (HERE / name).write_text(text)
        print(f"wrote {HERE / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
