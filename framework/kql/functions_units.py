"""Unit conversion: convert_angle, convert_energy, convert_force, convert_length, convert_mass,
convert_speed, convert_temperature and convert_volume.

Registered into ``functions.FUNCTIONS`` on import (``functions`` imports this module).
Each page lists its unit names (https://learn.microsoft.com/kusto/query/convert-length-function and
the seven siblings) but not their factors. The names are those of the UnitsNet library, whose
definitions give the factors; a value is converted through the quantity's SI unit.

Only units whose factor has stayed the same (to 1e-12) in every UnitsNet release since 2020 are
converted. Others were redefined in that time (the mile was 1609.34 m before 2023, the US gallon
3.78541 litres; the convert_volume page's AcreFoot example shows the older rounded factor), so which
one Kusto applies today is not documented: converting them is refused rather than guessed. A name
no page lists gives null, as the pages say of invalid units; a listed name in another case is
refused, since whether Kusto matches names case-insensitively is not documented.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dac.kql import values as V
from dac.kql.errors import KqlRefusedValue
from dac.kql.functions import PARAMETER_TYPES, scalar

_PREFIX = {"Nano": 1e-9, "Micro": 1e-6, "Milli": 1e-3, "Centi": 1e-2, "Deci": 1e-1, "Deca": 1e1, "Hecto": 1e2,
           "Kilo": 1e3, "Mega": 1e6, "Giga": 1e9, "Tera": 1e12}


def _prefixed(unit: str, factor: float, prefixes: str) -> dict[str, float]:
    """``unit`` and its SI-prefixed forms (Kilometer, DecausGallon: the unit's name lower-cased after
    the prefix, as UnitsNet spells them), each with its factor to the SI unit."""
    units = {unit: factor}
    for prefix in prefixes.split():
        units[prefix + unit[0].lower() + unit[1:]] = factor * _PREFIX[prefix]
    return units


# Factors to the SI unit of each quantity. The unsettled units are listed apart, by the page.
_ANGLE = {
    **_prefixed("Radian", 1.0, "Nano Micro Milli Centi Deci"),
    **_prefixed("Degree", math.pi / 180, "Nano Micro Milli"),
    "Arcminute": math.pi / (60 * 180), "Arcsecond": math.pi / (3600 * 180), "Gradian": math.pi / 200,
    "NatoMil": math.pi / 3200, "Revolution": 2 * math.pi,
}
_ENERGY = {
    **_prefixed("Joule", 1.0, "Milli Kilo Mega Giga"),
    **_prefixed("Calorie", 4.184, "Kilo Mega"),
    **_prefixed("BritishThermalUnit", 1055.05585262, "Kilo Mega Giga"),
    **_prefixed("WattHour", 3600.0, "Kilo Mega Giga Tera"),
    **_prefixed("WattDay", 86400.0, "Kilo Mega Giga Tera"),
    "Erg": 1e-7, "ThermEc": 105505585.262, "ThermImperial": 105505585.257348, "ThermUs": 105480400.0,
    "DecathermEc": 1055055852.62, "DecathermImperial": 1055055852.57348, "DecathermUs": 1054804000.0,
}
_FORCE = {
    **_prefixed("Newton", 1.0, "Micro Milli Deca Kilo Mega"),
    "Dyn": 1e-5, "PoundForce": 4.4482216152605, "KilopoundForce": 4448.2216152605,
    "OunceForce": 4.4482216152605 / 16, "ShortTonForce": 8896.443230521,
}
_LENGTH = {
    **_prefixed("Meter", 1.0, "Nano Micro Milli Centi Deci Deca Hecto Kilo"),
    "Angstrom": 1e-10, "AstronomicalUnit": 149597870700.0, "Chain": 20.1168, "DataMile": 1828.8,
    "DtpPica": 0.0254 / 6, "DtpPoint": 0.0254 / 72, "Fathom": 1.8288, "Foot": 0.3048, "Hand": 0.1016,
    "Inch": 0.0254, "Microinch": 2.54e-8, "Mil": 2.54e-5, "NauticalMile": 1852.0, "PrinterPoint": 0.0254 / 72.27,
    "Shackle": 27.432, "Twip": 0.0254 / 1440, "UsSurveyFoot": 1200 / 3937, "Yard": 0.9144,
    **_prefixed("LightYear", 9460730472580000.0, "Kilo Mega"),
    **_prefixed("Parsec", 3.08567758128e16, "Kilo Mega"),
}
_MASS = {
    **_prefixed("Gram", 1e-3, "Nano Micro Milli Centi Deci Deca Hecto Kilo"),
    **_prefixed("Tonne", 1000.0, "Kilo Mega"),
    **_prefixed("Pound", 0.45359237, "Kilo Mega"),
    "EarthMass": 5.9722e24, "Grain": 6.479891e-5, "LongHundredweight": 50.80234544, "LongTon": 1016.0469088,
    "ShortHundredweight": 45.359237, "ShortTon": 907.18474, "SolarMass": 1.98947e30,
}
_SPEED = {
    **{f"{length}Per{time}": factor / seconds
       for length, factor in (("Meter", 1.0), ("Foot", 0.3048), ("Inch", 0.0254), ("Yard", 0.9144),
                              ("UsSurveyFoot", 1200 / 3937))
       for time, seconds in (("Second", 1), ("Minute", 60), ("Hour", 3600))},
    **{f"{prefix}meterPer{time}": _PREFIX[prefix] / seconds
       for prefix, times in (("Nano", "Second Minute"), ("Micro", "Second Minute"),
                             ("Milli", "Second Minute Hour"), ("Centi", "Second Minute Hour"),
                             ("Deci", "Second Minute"), ("Kilo", "Second Minute Hour"))
       for time, seconds in (("Second", 1), ("Minute", 60), ("Hour", 3600)) if time in times.split()},
    "MilePerHour": 0.44704,
}
_VOLUME = {
    **_prefixed("CubicMeter", 1.0, "Hecto Kilo"),
    **_prefixed("Liter", 1e-3, "Micro Milli Centi Deci Deca Hecto Kilo Mega"),
    **_prefixed("ImperialGallon", 0.00454609, "Kilo Mega"),
    "AuTablespoon": 2e-5, "CubicCentimeter": 1e-6, "CubicDecimeter": 1e-3, "CubicHectometer": 1e6,
    "CubicKilometer": 1e9, "CubicMicrometer": 1e-18, "CubicMile": 4168181825.440579584,
    "CubicMillimeter": 1e-9, "ImperialBeerBarrel": 0.16365924, "ImperialPint": 0.00056826125,
    "MetricCup": 0.00025, "MetricTeaspoon": 5e-6, "OilBarrel": 0.158987294928, "UkTablespoon": 1.5e-5,
    "UsCustomaryCup": 0.0002365882365, "UsLegalCup": 0.00024, "UsPint": 0.000473176473,
    "UsQuart": 0.000946352946, "UsTablespoon": 1.478676478125e-5, "UsTeaspoon": 4.92892159375e-6,
}
# Listed by the pages, redefined by UnitsNet since 2020 (see the module docstring).
_UNSETTLED = {
    "convert_energy": frozenset({"ElectronVolt", "KiloelectronVolt", "MegaelectronVolt", "GigaelectronVolt",
                                 "TeraelectronVolt", "FootPound", "HorsepowerHour"}),
    "convert_force": frozenset({"KilogramForce", "KiloPond", "Poundal", "TonneForce"}),
    "convert_length": frozenset({"Mile", "PrinterPica", "SolarRadius"}),
    "convert_mass": frozenset({"Ounce", "Slug", "Stone"}),
    "convert_speed": frozenset({"Knot"}),
    "convert_volume": frozenset({
        "AcreFoot", "BoardFoot", "CubicFoot", "CubicInch", "CubicYard", "DecausGallon", "DeciusGallon",
        "HectocubicFoot", "HectousGallon", "ImperialOunce", "KilocubicFoot", "KilousGallon", "MegacubicFoot",
        "MegausGallon", "UsBeerBarrel", "UsGallon", "UsOunce"}),
}

# Temperature scales are affine: each unit as (to kelvin, from kelvin).
Affine = tuple[Callable[[float], float], Callable[[float], float]]
_TEMPERATURE: dict[str, Affine] = {
    "Kelvin": (lambda x: x, lambda k: k),
    "DegreeCelsius": (lambda x: x + 273.15, lambda k: k - 273.15),
    "MillidegreeCelsius": (lambda x: x / 1000 + 273.15, lambda k: (k - 273.15) * 1000),
    "DegreeDelisle": (lambda x: 373.15 - x * 2 / 3, lambda k: (373.15 - k) * 3 / 2),
    "DegreeFahrenheit": (lambda x: (x + 459.67) * 5 / 9, lambda k: k * 9 / 5 - 459.67),
    "DegreeNewton": (lambda x: x * 100 / 33 + 273.15, lambda k: (k - 273.15) * 33 / 100),
    "DegreeRankine": (lambda x: x * 5 / 9, lambda k: k * 9 / 5),
    "DegreeReaumur": (lambda x: x * 5 / 4 + 273.15, lambda k: (k - 273.15) * 4 / 5),
    "DegreeRoemer": (lambda x: (x - 7.5) * 40 / 21 + 273.15, lambda k: (k - 273.15) * 21 / 40 + 7.5),
    "SolarTemperature": (lambda x: x * 5778, lambda k: k / 5778),
}


def _linear(factors: dict[str, float]) -> dict[str, Affine]:
    return {name: (lambda x, f=f: x * f, lambda s, f=f: s / f) for name, f in factors.items()}


def _tilt() -> Affine:
    """Tilt is the sine of the angle (https://learn.microsoft.com/kusto/query/convert-angle-function lists it)."""
    return (math.asin, math.sin)


_QUANTITIES: dict[str, dict[str, Affine]] = {
    "convert_angle": {**_linear(_ANGLE), "Tilt": _tilt()},
    "convert_energy": _linear(_ENERGY),
    "convert_force": _linear(_FORCE),
    "convert_length": _linear(_LENGTH),
    "convert_mass": _linear(_MASS),
    "convert_speed": _linear(_SPEED),
    "convert_temperature": _TEMPERATURE,
    "convert_volume": _linear(_VOLUME),
}


def _unit(function: str, name: Any) -> Affine | None:
    """The unit called ``name``, None for a name the page does not list; a unit whose factor is not
    settled, or a listed name in another case, is refused."""
    if name is None:
        return None
    text = V.to_string(name)
    units, unsettled = _QUANTITIES[function], _UNSETTLED.get(function, frozenset())
    if text in unsettled:
        raise KqlRefusedValue(f"{function}() with unit '{text}' is not reproduced: its definition changed in "
                              "the unit library Kusto's unit names come from, and which one Kusto applies is "
                              "not documented")
    if text in units:
        return units[text]
    for known in (*units, *unsettled):
        if known.lower() == text.lower():
            raise KqlRefusedValue(f"{function}() with unit '{text}' is not reproduced: the page names it "
                                  f"'{known}', and whether other cases match is not documented")
    return None


def _converter(function: str) -> Callable[[Any, Any, Any], float | None]:
    def convert(value: Any, source: Any, target: Any) -> float | None:
        """``value`` in unit ``source`` expressed in unit ``target``, through the SI unit;
        null for a null value or an unknown unit."""
        number = None if value is None else V.to_real(value)
        from_unit, to_unit = _unit(function, source), _unit(function, target)
        if number is None or from_unit is None or to_unit is None:
            return None
        try:
            return to_unit[1](from_unit[0](number))
        except ValueError:  # Tilt beyond +-1, or an angle whose sine is asked of asin
            return math.nan

    return convert


for _function in _QUANTITIES:
    scalar(_function, returns="real", args=(3, 3))(_converter(_function))
    PARAMETER_TYPES[_function] = {0: frozenset({"number"}), 1: frozenset({"string"}), 2: frozenset({"string"})}
