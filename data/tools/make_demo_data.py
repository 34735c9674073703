#!/usr/bin/env python3
"""Builds data/organizations.geojson (the bundled demo data) from seed_places.csv.

  python3 data/tools/make_demo_data.py ../shared/data/seed_places.csv > data/organizations.geojson

Mapping (see data/README.md): ngo, tos and internship_site rows keep their kind; resource
centres become NGOs, except Yakutia's ЕРЦ, which hosted the 2023 internship and so is an
internship site; municipalities and events are not organisations and are left out, except that
the two internship events become programmes of their hosts; a row with no coordinates is left out.
Ids are assigned in file order and must never change, so re-running gives the same file.
"""
import csv
import json
import sys

ERC = "Единый ресурсный центр поддержки СО НКО и развития гражданских инициатив Якутии (ЕРЦ)"
PERM_SITES = "НКО-лидеры Пермского края — площадки стажировок"

PROGRAMMES = {
    ERC: [{
        "title": "Стажировка лидеров НКО Челябинской области в Якутии",
        "topics": ["стратегия развития НКО", "работа с командой", "развитие территорий", "ТОС"],
        "length_days": 4, "starts_on": "2023-08-02", "ends_on": "2023-08-05", "capacity": 18,
        "selection_status": "completed",
        "description": "Обмен опытом на базе ЕРЦ в Якутске и выездная работа в Горном улусе; "
                       "грант губернатора Челябинской области через Фонд поддержки гражданских инициатив Южного Урала. "
                       "В тексте названа пятидневной; даты — со 2 по 5 августа.",
    }],
    PERM_SITES: [{
        "title": "НКО стажировки (проект «НКО экспедиции»)",
        "topics": ["обмен опытом", "технологии и практики НКО", "совместные проектные идеи"],
        "length_days": 2, "starts_on": "2023-09-01", "ends_on": "2024-01-31",
        "selection_status": "cancelled",
        "description": "Стажировки на один-два дня в НКО-лидерах края для сотрудников и волонтёров НКО "
                       "отдалённых территорий (50 км и более от Перми). Заявка 23-2-001172 не получила поддержку.",
    }],
}

CATEGORIES = {
    "tos": ["ТОС и местные сообщества"],
    "resource_center": ["поддержка НКО"],
}
EXTRA_CATEGORIES = {
    "Детская общественная организация «Юные оленеводы» Момского района": ["дети и молодежь"],
    "Организация «Волонтеры рядом»": ["волонтерство"],
    "Центр по работе с волонтерами Якутии": ["волонтерство"],
    "Фонд грантов губернатора Пермского края": ["поддержка НКО"],
    "Фонд президентских грантов": ["поддержка НКО"],
    "Фонд поддержки гражданских инициатив Южного Урала": ["поддержка НКО"],
    "АНО по развитию социальных технологий и поддержке общественных инициатив «Проектная среда»": ["поддержка НКО"],
}
ADDRESSES = {
    "АНО по развитию социальных технологий и поддержке общественных инициатив «Проектная среда»":
        "Пермский край, г Кудымкар, ул Володарского, д 15, офис 110",
}


def kind_of(row):
    if row["name_ru"] == ERC:
        return "internship_site"
    return {"ngo": "ngo", "tos": "tos", "internship_site": "internship_site", "resource_center": "ngo"}.get(row["kind"])


def main(path):
    features = []
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kind = kind_of(row)
            if kind is None or not row["lat"]:
                continue
            name = row["name_ru"]
            props = {
                "name": name, "kind": kind, "region_iso": row["region_iso"],
                "settlement": row["settlement_ru"] or None, "address": ADDRESSES.get(name),
                "inn": row["inn"] or None, "ogrn": row["ogrn"] or None,
                "categories": CATEGORIES.get(row["kind"], []) + EXTRA_CATEGORIES.get(name, []),
                "description": row["note"] or None,
                "source": "seed: " + row["source_file"] + "; location " + row["location_confidence"],
            }
            if kind == "internship_site":
                props["programmes"] = PROGRAMMES.get(name, [])
            features.append({
                "type": "Feature", "id": len(features) + 1,
                "geometry": {"type": "Point", "coordinates": [float(row["lon"]), float(row["lat"])]},
                "properties": props,
            })
    doc = {"type": "FeatureCollection", "features": features}
    sys.stdout.write("{\"type\":\"FeatureCollection\",\"features\":[\n")
    sys.stdout.write(",\n".join(json.dumps(ft, ensure_ascii=False) for ft in doc["features"]))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/seed_places.csv")
