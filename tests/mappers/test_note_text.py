"""What a note's text says: its type, its SOAP sections, its vital signs (mappers.note_text)."""

import json
from pathlib import Path
from typing import Any

import pytest

from mappers.note_text import NoteType, SkippedVital, SoapSections, classify, soap_sections, vital_signs
from mappers.vitals import Vitals

SAMPLES_FILE = Path(__file__).resolve().parents[2] / "generators" / "data" / "soap_notes.json"
SAMPLES: list[dict[str, Any]] = json.loads(SAMPLES_FILE.read_text(encoding="utf-8"))["notes"]


def _sample(expected_type: str, index: int = 0) -> str:
    """The content of the `index`-th shared sample of a type."""
    return [note["content"] for note in SAMPLES if note["expected_type"] == expected_type][index]


# --- Classification of the shared samples -------------------------------------------------


def test_the_samples_are_the_eight_shared_notes() -> None:
    assert len(SAMPLES) == 8


def test_at_least_seven_of_the_eight_samples_get_their_expected_type() -> None:
    right = [note["taken_at"] for note in SAMPLES if classify(note["content"]) == note["expected_type"]]

    assert len(right) >= 7


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, "admission"),
        (1, "progress"),
        (2, "nursing"),
        (3, "consult"),
        (4, "progress"),
        (5, "discharge"),
        (6, "progress"),
        (7, "history-and-physical"),
    ],
)
def test_each_sample_gets_its_expected_type(index: int, expected: NoteType) -> None:
    assert SAMPLES[index]["expected_type"] == expected
    assert classify(SAMPLES[index]["content"]) == expected


# --- Classification of notes written for these tests --------------------------------------
#
# Fictional notes, phrased the way clinicians write them: with and without a heading, in
# SOAP form or by systems, by physicians, nurses and others.

OWN_NOTES: list[tuple[str, NoteType, str]] = [
    (
        "surgical-daily-pod2",
        "progress",
        "Daily progress note, POD#2\n"
        "Pt seen and examined this AM. Pain controlled on oxycodone 5 mg q4h prn, using 2-3 doses/day. "
        "Tolerating clear fluids, +flatus, no BM yet. Denies N/V.\n"
        "Vitals: T 37.4, HR 88, BP 118/72, RR 16, SpO2 96% RA.\n"
        "Abd soft, appropriately tender, incisions c/d/i, no erythema.\n"
        "A/P: 58M s/p lap sigmoid colectomy for diverticular stricture, recovering as expected.\n"
        "- advance to full fluids\n"
        "- remove Foley today\n"
        "- ambulate TID\n"
        "- enoxaparin 40 mg SC daily",
    ),
    (
        "cardiology-consultation",
        "consult",
        "Cardiology consultation\n"
        "Requested by: Dr. Patel, hospitalist service\n"
        "Question: new-onset atrial fibrillation with rapid ventricular response.\n"
        "HPI: 72 yo woman admitted 2 days ago with urosepsis who developed palpitations overnight. "
        "Telemetry shows AF, rates 130-150. No chest pain or syncope. No prior arrhythmia.\n"
        "Exam: BP 108/64, HR 138 irregularly irregular. JVP not elevated. Lungs clear.\n"
        "Echo (2023): EF 55%, mild LAE.\n"
        "Impression: AF with RVR, likely precipitated by sepsis. CHA2DS2-VASc 4, HAS-BLED 2.\n"
        "Recommendations:\n"
        "1. Metoprolol tartrate 25 mg PO q6h, titrate to HR < 110.\n"
        "2. Start apixaban 5 mg BID once no procedures planned.\n"
        "3. Repeat TTE.\n"
        "We will follow. Thank you for involving us in her care.",
    ),
    (
        "rn-shift-assessment",
        "nursing",
        "RN shift assessment 0700-1900\n"
        "Neuro: A&Ox4, follows commands, MAE.\n"
        "Resp: diminished bases bilaterally, on 2 L NC, sats 95%. Using incentive spirometer x10/h.\n"
        "CV: NSR on tele, HR 70s, radial pulses palpable, no edema.\n"
        "GI: tolerating regular diet, BM x1 this shift.\n"
        "GU: voiding qs, clear yellow.\n"
        "Skin: sacrum intact, repositioned q2h.\n"
        "Safety: bed low and locked, call light in reach, fall precautions maintained.\n"
        "Pain 3/10 L hip, acetaminophen 1 g PO given at 1400 with good effect.",
    ),
    (
        "outpatient-h-and-p",
        "history-and-physical",
        "H&P\n"
        "CC: scheduled for elective colonoscopy under sedation.\n"
        "HPI: 61 yo M referred after positive FIT. No rectal bleeding, no change in bowel habit, no "
        "weight loss.\n"
        "PMH: HTN, OSA on CPAP, GERD.\n"
        "PSH: appendectomy age 20.\n"
        "Meds: amlodipine 5 mg daily, omeprazole 20 mg daily.\n"
        "Allergies: sulfa (hives).\n"
        "SH: retired teacher, 2 drinks/week, never smoker.\n"
        "FH: mother colon cancer at 68.\n"
        "ROS: negative x 10 systems.\n"
        "PE: BP 136/84, HR 68, SpO2 97%, wt 92 kg. Mallampati II. Heart RRR, no murmur. Lungs clear. "
        "Abdomen soft, non-tender.\n"
        "Impression: ASA II. Fit for procedure under moderate sedation.",
    ),
    (
        "admission-history-and-physical",
        "admission",
        "Admission History and Physical\n"
        "Attending: Dr. R. Novak\n"
        "CC: shortness of breath x 5 days\n"
        "HPI: 79F with HFrEF (EF 30%) and CKD 3 with progressive exertional dyspnea, 3-pillow orthopnea "
        "and 4 kg weight gain after running out of furosemide.\n"
        "PMH: HFrEF, CKD 3b, AF on apixaban, T2DM.\n"
        "Exam: BP 152/88, HR 92, RR 22, SpO2 90% RA. JVP 10 cm. Bibasilar crackles. 2+ pitting edema to "
        "knees.\n"
        "Labs: BNP 2400, Cr 1.8 (baseline 1.4), K 4.9.\n"
        "Assessment: acute on chronic HFrEF, likely medication non-adherence.\n"
        "Plan: Admit to telemetry. Furosemide 80 mg IV BID, strict I/O, daily weights, 1.5 L fluid "
        "restriction, hold lisinopril for AKI.",
    ),
    (
        "hospital-day-no-heading",
        "progress",
        "Hospital day 4. No acute events overnight. Afebrile. Ambulating in hallway with physio. Cr "
        "trending down 1.6 -> 1.3. Net negative 1.8 L yesterday, weight 81.2 kg (admission 85 kg).\n"
        "Exam: JVP 6 cm, fewer crackles, edema 1+.\n"
        "Plan: continue IV furosemide today, switch to PO 40 mg BID tomorrow if Cr stable. Restart "
        "lisinopril at discharge. Discussed with daughter at bedside.",
    ),
    (
        "telephone-refill",
        "other",
        "Telephone encounter\n"
        "Pt called requesting a refill of atorvastatin 40 mg. Last lipid panel 06/2024 at target, last "
        "office visit 4 months ago. Refill x 90 days sent to pharmacy on file. Reminded to book annual "
        "physical. Continue current dose.",
    ),
    (
        "no-show-admin",
        "other",
        "No show. Patient did not attend scheduled appointment. Unable to reach by phone, voicemail left "
        "asking to call the clinic to rebook.",
    ),
    (
        "discharge-without-heading",
        "discharge",
        "Date of admission: 2025-01-12\n"
        "Date of discharge: 2025-01-16\n"
        "Reason for admission: acute pyelonephritis with sepsis.\n"
        "Hospital course: Started on IV ceftriaxone after blood and urine cultures; urine grew pan-"
        "sensitive E. coli. Defervesced within 48 h and lactate normalised. Renal ultrasound showed no "
        "obstruction. Switched to oral ciprofloxacin on day 3.\n"
        "Discharge medications: ciprofloxacin 500 mg PO BID to complete 10 days; resume levothyroxine 75 "
        "mcg daily.\n"
        "Disposition: home with family. GP follow-up in 1 week.",
    ),
    (
        "lower-case-soap",
        "progress",
        "s: doing ok today, still some burning with urination but less. no fevers or flank pain.\n"
        "o: t 37.1, hr 78, bp 124/70. no cva tenderness.\n"
        "a: uncomplicated uti, improving on abx\n"
        "p: finish 5 day course of nitrofurantoin. f/u prn if symptoms return.",
    ),
    (
        "overnight-nursing-no-heading",
        "nursing",
        "0300 Pt resting in bed with eyes closed, respirations even and unlabored. Turned and "
        "repositioned, heels offloaded. Foley draining clear yellow urine, 350 mL since 2300. PIV L "
        "forearm patent, site c/d/i. Bed alarm on. Will continue to monitor.",
    ),
    (
        "nephrology-consult-no-heading",
        "consult",
        "Asked to see this 45 yo man by Dr. Chen (hospitalist) for acute kidney injury. Creatinine 3.2 "
        "from a baseline of 0.9, three days after a contrast CT, with ongoing ibuprofen use for back "
        "pain. Euvolemic on exam. UA bland, FENa 2.1%. No hyperkalemia or acidosis.\n"
        "Impression: AKI, likely contrast-associated +/- NSAID.\n"
        "Recs: stop ibuprofen, avoid further contrast, NS at 75 mL/h, daily BMP, renally dose "
        "medications. No indication for dialysis at present. Will follow with you.",
    ),
    (
        "pediatric-discharge-summary",
        "discharge",
        "Discharge Summary - Pediatrics\n"
        "6 yo boy admitted with status asthmaticus requiring continuous salbutamol and IV magnesium in "
        "the PICU for 24 h, then transferred to the ward. Weaned to salbutamol q4h by day 3. Completed 3 "
        "days of dexamethasone.\n"
        "Discharged home with mother. Asthma action plan reviewed. Fluticasone 125 mcg 2 puffs BID "
        "started. Follow up with pediatrician in 3-5 days.",
    ),
    (
        "admit-note-copd",
        "admission",
        "Admit note \u2014 Internal Medicine\n"
        "68M with COPD (FEV1 38%), on 2 L home O2, brought in by EMS with 3 days of worsening dyspnea and"
        " green sputum. No chest pain. ABG 7.31/62/58.\n"
        "Exam: RR 28, SpO2 86% on 2 L, diffuse wheeze, accessory muscle use.\n"
        "Plan: admit to medicine step-down, BiPAP, salbutamol/ipratropium nebs q4h, prednisone 40 mg x5 "
        "days, doxycycline 100 mg BID. Code status: full.",
    ),
    (
        "hospitalist-progress-note",
        "progress",
        "Hospitalist Progress Note\n"
        "Interval: Febrile to 38.4 overnight, blood cultures redrawn. Tolerating PO. Mild confusion this "
        "AM per nursing, now resolved.\n"
        "Exam: HR 92, BP 118/70, RR 18, SpO2 95% RA. Alert, oriented. Lungs clear. Foley removed.\n"
        "Labs: WBC 13.1 (from 16.4), lactate 1.2.\n"
        "1. Sepsis, urinary source - improving; continue piperacillin-tazobactam pending sensitivities.\n"
        "2. Delirium, likely infection-related - minimize sedatives, sleep hygiene.",
    ),
    (
        "diabetes-clinic-follow-up",
        "progress",
        "Diabetes follow up\n"
        "A1c 7.2% down from 8.6% in October. Home fasting readings 6-9. No hypoglycemia. Tolerating "
        "empagliflozin without side effects. BP 128/78, weight 84.5 kg (down 3 kg). Feet: monofilament "
        "sensation intact, no ulcers.\n"
        "Plan: continue metformin 1 g BID and empagliflozin 10 mg daily. Retinal screening referral. "
        "Repeat A1c in 3 months.",
    ),
    (
        "psychiatry-consult-liaison",
        "consult",
        "Psychiatry Consult-Liaison\n"
        "Reason for referral: capacity assessment, patient declining dialysis.\n"
        "57 yo woman with ESRD, seen at bedside with her husband present. Calm, cooperative, speech "
        "normal. Mood 'tired', affect congruent. No psychotic features, no SI.\n"
        "She can describe her condition, the proposed treatment, the risks of refusing (including death),"
        " and gives a consistent reason based on her values.\n"
        "Impression: Patient has capacity to refuse dialysis.\n"
        "Recommendations: respect decision, palliative care referral, reassess if her mental status "
        "changes.",
    ),
    (
        "preoperative-history-and-physical",
        "history-and-physical",
        "Pre-operative History & Physical\n"
        "Procedure: right total hip arthroplasty, scheduled 03/18.\n"
        "History of present illness: 70 yo F with end-stage right hip osteoarthritis, pain limiting "
        "walking to one block despite NSAIDs and physiotherapy.\n"
        "Past medical history: hypothyroidism, osteopenia.\n"
        "Medications: levothyroxine 88 mcg daily, vitamin D.\n"
        "Allergies: none known.\n"
        "Social history: lives with spouse, independent ADLs, non-smoker.\n"
        "Physical exam: BP 128/76, HR 70, weight 64 kg, height 160 cm. Heart and lungs normal. Right hip:"
        " painful, restricted internal rotation.\n"
        "Assessment: cleared for surgery from a medical standpoint.",
    ),
    (
        "nursing-admission-assessment",
        "nursing",
        "Nursing admission assessment\n"
        "Pt arrived to unit 4B via stretcher from ED at 1620, accompanied by son. Oriented to room and "
        "call bell. Allergies verified (penicillin). Braden 16, Morse fall score 45 - fall precautions in"
        " place, bed alarm on. Skin: stage 1 pressure area to coccyx, barrier cream applied. Belongings "
        "list completed. Son updated on unit routines and visiting hours.",
    ),
    (
        "micu-progress-note",
        "progress",
        "MICU Progress Note - ICU day 3\n"
        "Events: extubated yesterday at 14:00, now on 4 L NC.\n"
        "Neuro: CAM-ICU negative, off sedation.\n"
        "CV: off norepinephrine since 06:00, MAP 70s.\n"
        "Resp: RR 20, SpO2 94% on 4 L, good cough.\n"
        "ID: day 5 of meropenem for Klebsiella bacteremia.\n"
        "Plan: wean O2, speech-language pathology swallow assessment, transfer to ward if stable.",
    ),
    (
        "paracentesis-procedure-note",
        "other",
        "Procedure note: Ultrasound-guided paracentesis\n"
        "Indication: symptomatic ascites, alcohol-related cirrhosis.\n"
        "Consent obtained after discussion of risks and benefits. Time-out performed. Left lower quadrant"
        " prepped and draped in sterile fashion, 1% lidocaine local. 5.2 L of straw-coloured fluid "
        "removed. Albumin 25% 50 g IV given. No immediate complications; patient tolerated the procedure "
        "well. Fluid sent for cell count, culture and albumin.",
    ),
    (
        "social-work-note",
        "other",
        "Social Work Note\n"
        "Met with patient and daughter at bedside to discuss discharge planning. Patient lives alone in a"
        " second-floor apartment without elevator; daughter visits daily. Home care referral sent for "
        "personal support 3x/week and a home safety assessment. Patient agreeable to plan. Will follow.",
    ),
    (
        "soap-spelled-out-no-title",
        "progress",
        "Subjective: Back pain improved since starting physiotherapy, now 3/10. Sleeping better. No "
        "numbness or weakness.\n"
        "Objective: Gait normal. Lumbar flexion to mid-shin. Straight leg raise negative bilaterally.\n"
        "Assessment: Mechanical low back pain, resolving.\n"
        "Plan: Continue home exercise program, naproxen prn only. Return if red flag symptoms.",
    ),
    (
        "nurses-note-night",
        "nursing",
        "Nurse's note 1900-0700\n"
        "Pt c/o nausea at 2200, ondansetron 4 mg IV given per order with relief. VSS. Up to bathroom with"
        " 1 assist, steady gait. NPO after midnight for OR in AM, consent signed. Call light within "
        "reach.",
    ),
    (
        "post-op-check",
        "progress",
        "POD 0 post-op check\n"
        "Seen in PACU-to-ward handover. Comfortable, pain 2/10 on PCA. Drain 40 mL serosanguinous. "
        "Dressing dry. Voiding not yet, bladder scan 250 mL.\n"
        "HR 84, BP 122/70, SpO2 97% on 2 L.\n"
        "Plan: continue PCA overnight, IV fluids at 100 mL/h, recheck CBC in AM.",
    ),
    (
        "new-patient-h-and-p-no-heading",
        "history-and-physical",
        "Chief complaint: establishing care, fatigue.\n"
        "HPI: 34 yo F moving from Ontario, 6 months of fatigue and heavy menstrual periods.\n"
        "PMH: iron deficiency in pregnancy 2021.\n"
        "Medications: none. Allergies: NKDA.\n"
        "Family history: mother hypothyroidism.\n"
        "Social history: works as a paralegal, no tobacco, rare alcohol.\n"
        "Review of systems: positive for fatigue and menorrhagia, otherwise negative.\n"
        "Physical examination: BP 112/70, HR 88, pale conjunctivae, thyroid not enlarged.\n"
        "Assessment/Plan: Fatigue, suspect iron deficiency anemia. CBC, ferritin, TSH; gynecology "
        "referral if menorrhagia persists.",
    ),
    (
        "nursing-discharge-note",
        "nursing",
        "Nursing discharge note\n"
        "PIV removed, catheter tip intact. Discharge instructions and medication list reviewed with "
        "patient and wife, both verbalized understanding. Prescriptions given. Patient discharged home "
        "via wheelchair accompanied by wife with all belongings.",
    ),
    (
        "admission-reason-first-line",
        "admission",
        "Reason for admission: upper GI bleed\n"
        "HPI: 66M on apixaban for AF presented to the ED with two episodes of melena and presyncope. Hb "
        "74 from baseline 128. BP 96/58, HR 112 on arrival, improved after 2 units PRBC.\n"
        "PMH: AF, HTN, OA on regular naproxen.\n"
        "Plan: admit to step-down unit. Hold apixaban and naproxen. Pantoprazole 80 mg IV bolus then "
        "infusion. GI aware, scope in AM. Transfuse for Hb < 70. Two large-bore IVs.",
    ),
    (
        "hospital-discharge-summary-dates",
        "discharge",
        "HOSPITAL DISCHARGE SUMMARY\n"
        "Admission date: 2025-03-02    Discharge date: 2025-03-09\n"
        "Principal diagnosis: Left MCA ischemic stroke.\n"
        "Course: Presented outside the thrombolysis window. MRI confirmed left MCA infarct. Etiology "
        "cardioembolic, new AF on telemetry. Started apixaban on day 5. Aphasia improving.\n"
        "Disposition: inpatient rehabilitation.\n"
        "Medications on discharge: apixaban 5 mg BID, atorvastatin 80 mg daily.",
    ),
    (
        "refill-request-portal",
        "other",
        "Refill request via patient portal: salbutamol inhaler. Last asthma review 11/2024, using "
        "1-2x/week. Renewed with 2 refills. Message sent to patient.",
    ),
    (
        "copd-clinic-soap-abbreviated",
        "progress",
        "Respirology clinic\n"
        "S: Breathing about the same. 1 exacerbation since last visit, treated by GP with prednisone. "
        "Walks 2 blocks before stopping.\n"
        "O: SpO2 93% RA, RR 18. Prolonged expiration, no wheeze. Spirometry FEV1 1.1 L (41%).\n"
        "A: COPD GOLD 3, group E.\n"
        "P: Step up to triple inhaler. Pulmonary rehab referral. Flu and RSV vaccines today. See in 6 "
        "months.",
    ),
    (
        "id-consult-heading-lowercase",
        "consult",
        "infectious diseases consult note\n"
        "Consulted for: persistent fever on day 6 of piperacillin-tazobactam.\n"
        "History: 52 yo man post Whipple 10 days ago, fevers to 39, abdominal pain. CT shows 5 cm "
        "peripancreatic collection.\n"
        "Impression: intra-abdominal abscess, source control needed.\n"
        "Recommendations: IR drainage with culture; continue piperacillin-tazobactam; send fungal "
        "cultures; we will follow up on the cultures.",
    ),
    (
        "nurse-practitioner-progress",
        "progress",
        "Progress Note - Nurse Practitioner\n"
        "Seen for ongoing management of cellulitis L leg. Erythema receding from marked borders, less "
        "pain. Afebrile x 24 h. WBC 9.8.\n"
        "Plan: switch cefazolin to cephalexin 500 mg QID to complete 7 days, elevate leg, likely home "
        "tomorrow.",
    ),
    (
        "phone-call-results",
        "other",
        "Phone call to patient re: results\n"
        "Reviewed CT chest with patient: no pulmonary embolism. Chest wall pain likely musculoskeletal. "
        "Advised to continue ibuprofen with food and to see GP if not improving in 2 weeks. Pt agreeable.",
    ),
    (
        "pacu-arrival-nursing-no-heading",
        "nursing",
        "Received pt from PACU at 1530, drowsy but rousable. VSS. Abdominal dressing dry and intact. PCA "
        "teaching done, pt verbalized understanding. Call light within reach, bed in low position.",
    ),
    (
        "gi-consult",
        "consult",
        "GI Consult\n"
        "Reason for consult: iron deficiency anemia, Hb 82.\n"
        "74F, no overt bleeding, on aspirin. Ferritin 6.\n"
        "Recommendations: EGD and colonoscopy tomorrow, clear fluids today, bowel prep tonight, IV iron.",
    ),
    (
        "medicine-admission",
        "admission",
        "Medicine admission\n"
        "82F from home, found on floor by neighbour, down ~12 h. CK 8400, Cr 2.1. Confused, baseline "
        "independent per son.\n"
        "Plan: IV fluids 150 mL/h, trend CK and Cr, CT head, delirium precautions, PT/OT assessment.",
    ),
    (
        "late-entry-forms",
        "other",
        "Late entry. Chart reviewed to complete disability insurance form. Form completed, signed and "
        "faxed to insurer. Copy scanned to chart.",
    ),
    (
        "neurology-follow-up",
        "progress",
        "Neurology follow-up\n"
        "Migraine frequency down from 12 to 4 days/month on propranolol 40 mg BID. No side effects. Using"
        " sumatriptan about twice monthly. Neuro exam normal.\n"
        "Plan: same dose, headache diary, review in 6 months.",
    ),
    (
        "wound-care-rn-note",
        "nursing",
        "Wound care RN note\n"
        "Sacral stage 2 pressure injury 3 x 2 cm, wound bed pink, minimal serous exudate, no odour. "
        "Cleansed with NS, foam dressing applied. Pt repositioned to L side, pressure-redistribution "
        "mattress in place.",
    ),
    (
        "day-of-admission-progress",
        "progress",
        "Day 3 of admission\n"
        "Breathing easier, O2 weaned to 1 L. Eating breakfast. Sputum culture: S. pneumoniae.\n"
        "Exam: few crackles R base.\n"
        "Plan: narrow to amoxicillin, wean O2 to off, mobilize.",
    ),
    (
        "hospital-course-discharge-no-heading",
        "discharge",
        "78M admitted with a COPD exacerbation.\n"
        "Hospital course: treated with nebulized bronchodilators, prednisone and doxycycline. Weaned to "
        "his baseline 2 L home oxygen by day 4.\n"
        "Discharge medications: prednisone 40 mg daily x 1 more day, tiotropium, salbutamol prn.\n"
        "Follow-up with respirology in 4 weeks.",
    ),
    (
        "consult-letter-no-heading",
        "consult",
        "Dear Dr. Lam,\n"
        "Thank you for referring Mr. Kowalski, 58, for evaluation of exertional chest tightness.\n"
        "HPI: 3 months of tightness after 2 blocks, relieved by rest. Ex-smoker.\n"
        "PMH: HTN, dyslipidemia.\n"
        "Family history: brother MI at 52.\n"
        "On examination: BP 142/86, HR 72, normal heart sounds.\n"
        "ECG: sinus rhythm, no ischemic changes.\n"
        "Impression: probable stable angina.\n"
        "Plan: exercise stress test, start ASA 81 mg and atorvastatin 40 mg, nitroglycerin spray prn. I "
        "will see him again with the results.",
    ),
    (
        "admission-no-heading",
        "admission",
        "72M presenting to ED with 2 days of fever, rigors and dysuria. Hx BPH. T 39.1, HR 118, BP 94/60 "
        "after 2 L. Lactate 3.4. UA nitrite positive.\n"
        "Impression: urosepsis.\n"
        "Plan: admit under medicine, pip-tazo, blood cultures, Foley for retention, reassess volume "
        "status in 2 h.",
    ),
    (
        "nursing-lunch",
        "nursing",
        "Pt up in chair for lunch, ate 50% of meal. NS infusing at 75 mL/h via R AC. Dressing changed, "
        "small amount serous drainage. Family at bedside. Pain 2/10, declined analgesia.",
    ),
    (
        "md-notified",
        "nursing",
        "BG 3.2 at 0400, pt diaphoretic. 15 g glucose gel given per protocol, recheck 5.8. Bedtime "
        "insulin dose reviewed. On-call resident notified, orders received to reduce glargine.",
    ),
    (
        "derm-econsult",
        "consult",
        "Dermatology e-consult\n"
        "Question: pigmented lesion L shoulder changing over 6 months.\n"
        "Photos reviewed: asymmetric 8 mm lesion with irregular border and two colours.\n"
        "Advice: excisional biopsy with 2 mm margins within 2 weeks; if unable, refer urgently to "
        "dermatology.",
    ),
    (
        "gp-progress-no-heading",
        "progress",
        "Seen today for BP review. Home readings averaging 138/86. Started amlodipine 5 mg 4 weeks ago, "
        "mild ankle swelling. BP 136/84 in clinic.\n"
        "Increase amlodipine to 10 mg, recheck in 4 weeks with home log, labs for renal function.",
    ),
    (
        "op-note",
        "other",
        "Brief operative note\n"
        "Pre-op diagnosis: acute appendicitis.\n"
        "Procedure: laparoscopic appendectomy.\n"
        "Findings: inflamed, non-perforated appendix.\n"
        "EBL: minimal. Complications: none.\n"
        "Disposition: PACU in stable condition.",
    ),
    (
        "transfer-to-ward",
        "progress",
        "ICU day 5\n"
        "Off pressors 36 h, saturating well on 3 L. Tolerating tube feeds at goal.\n"
        "Plan: transfer to ward, continue antibiotics day 7/10, PT to mobilize.",
    ),
    (
        "discharge-home-short",
        "discharge",
        "Pt discharged home today in stable condition after uneventful recovery from TKA. Discharge "
        "instructions reviewed. Follow up with ortho clinic in 2 weeks for staple removal.",
    ),
    (
        "h-and-p-mixed-case",
        "history-and-physical",
        "History and Physical Examination\n"
        "Chief Complaint: recurrent kidney stones.\n"
        "HPI: 3 episodes of renal colic in 2 years. Currently asymptomatic.\n"
        "PMH: gout.\n"
        "ROS: otherwise negative.\n"
        "Exam: unremarkable.\n"
        "Assessment: recurrent nephrolithiasis; 24 h urine ordered.",
    ),
]


@pytest.mark.parametrize(("name", "expected", "text"), OWN_NOTES, ids=[name for name, _, _ in OWN_NOTES])
def test_own_note_gets_its_type(name: str, expected: NoteType, text: str) -> None:
    assert classify(text) == expected


def test_own_notes_cover_every_type_and_are_many() -> None:
    assert len(OWN_NOTES) >= 20
    assert len({name for name, _, _ in OWN_NOTES}) == len(OWN_NOTES)
    assert {expected for _, expected, _ in OWN_NOTES} == {
        "admission",
        "progress",
        "consult",
        "discharge",
        "nursing",
        "history-and-physical",
        "other",
    }


@pytest.mark.parametrize("text", ["", "   \n\t", "Seen.", "Late entry."])
def test_a_note_that_says_nothing_is_other(text: str) -> None:
    assert classify(text) == "other"


def test_a_heading_beats_the_vocabulary() -> None:
    # Discharge vocabulary throughout, but a nurse wrote it and says so.
    text = "Nursing note\nDischarge instructions reviewed. Hospital course uneventful. Discharged home with wife."

    assert classify(text) == "nursing"


def test_a_heading_is_looked_for_on_the_first_lines_only() -> None:
    text = "Pt seen.\nStable.\nNo change.\nDischarge summary to follow."

    assert classify(text) == "other"


def test_a_long_first_sentence_is_not_a_heading() -> None:
    text = "Pt seen today with her daughter in the progress clinic regarding ongoing knee pain, no change."

    assert classify(text) == "other"


@pytest.mark.parametrize(
    "first_line",
    ["Date of admission: 2025-01-12", "Admission date: 2025-01-12", "Reason for admission: pneumonia"],
)
def test_a_line_about_the_admission_is_no_admission_heading(first_line: str) -> None:
    text = f"{first_line}\nHospital course: uneventful.\nDischarge medications: none new."

    assert classify(text) == "discharge"


def test_an_admission_from_a_nursing_home_is_no_nursing_note() -> None:
    assert classify("Admission from nursing home\nCC: fall.\nPlan: admit to medicine.") == "admission"


# --- SOAP sections ------------------------------------------------------------------------


def test_soap_sections_of_a_sample_with_letter_headings() -> None:
    assert soap_sections(_sample("progress")) == SoapSections(
        subjective="Feels slightly better, cough persists, less chest pain. Slept poorly.",
        objective="T 37.9 C, HR 96, BP 132/80, RR 20, SpO2 93% on 2 L. Crackles RLL unchanged. Glucose 9-12 mmol/L. "
        "Blood cultures no growth at 24 h.",
        assessment="CAP improving slowly. Glycemic control acceptable on insulin.",
        plan="Continue ceftriaxone and azithromycin (day 2/5). Wean O2 as tolerated. Encourage incentive spirometry "
        "and mobilization.",
    )


def test_soap_sections_of_the_sample_with_spelled_out_headings() -> None:
    sections = soap_sections(_sample("progress", 2))

    assert sections is not None
    assert sections.subjective == (
        "No cough or dyspnea. Energy returning. Mild genital itching since starting empagliflozin."
    )
    assert sections.objective == "BP 124/76, HR 74, SpO2 97%, weight 78.2 kg. Chest clear."
    assert sections.assessment is not None and sections.assessment.startswith("Pneumonia resolved clinically.")
    assert sections.plan is not None and sections.plan.endswith("Repeat CXR booked for March 20.")


def test_the_title_above_the_first_heading_is_no_section() -> None:
    sections = soap_sections(_sample("admission"))

    assert sections is not None
    assert sections.subjective is not None and sections.subjective.startswith("63 y/o F presents to ED")
    assert sections.plan is not None and sections.plan.startswith("Admit to medicine.")


def test_spelled_out_headings_in_any_case() -> None:
    text = (
        "SUBJECTIVE: sore throat x 3 days\nobjective: T 37.8, tonsillar exudate\n"
        "Assessment: strep pharyngitis\nPLAN: amoxicillin"
    )

    assert soap_sections(text) == SoapSections(
        subjective="sore throat x 3 days",
        objective="T 37.8, tonsillar exudate",
        assessment="strep pharyngitis",
        plan="amoxicillin",
    )


def test_lower_case_letter_headings() -> None:
    text = "s: no complaints\no: hr 70\na: well\np: rtc 1 year"

    assert soap_sections(text) == SoapSections(
        subjective="no complaints", objective="hr 70", assessment="well", plan="rtc 1 year"
    )


def test_headings_after_sentence_ends_on_one_line() -> None:
    text = "S: Feels well, sleeping better. O: HR 80, BP 120/70. A: Stable insomnia. P: Continue sleep hygiene."

    assert soap_sections(text) == SoapSections(
        subjective="Feels well, sleeping better.",
        objective="HR 80, BP 120/70.",
        assessment="Stable insomnia.",
        plan="Continue sleep hygiene.",
    )


def test_a_letter_and_colon_inside_a_sentence_is_no_heading() -> None:
    text = "S: took vitamin A: 2 tabs daily\nO: well"

    assert soap_sections(text) == SoapSections(subjective="took vitamin A: 2 tabs daily", objective="well")


@pytest.mark.parametrize(
    "heading", ["A/P:", "a/p:", "A&P:", "Assessment and plan:", "ASSESSMENT & PLAN:", "Assessment/Plan:"]
)
def test_a_combined_heading_fills_assessment_and_plan(heading: str) -> None:
    text = f"S: cough\nO: clear chest\n{heading} viral URTI, fluids and rest"

    assert soap_sections(text) == SoapSections(
        subjective="cough",
        objective="clear chest",
        assessment="viral URTI, fluids and rest",
        plan="viral URTI, fluids and rest",
    )


def test_absent_parts_are_null() -> None:
    sections = soap_sections("Subjective: knee pain better\nPlan: stop naproxen")

    assert sections == SoapSections(
        subjective="knee pain better", objective=None, assessment=None, plan="stop naproxen"
    )


def test_an_empty_section_is_null() -> None:
    assert soap_sections("S:\nO: HR 70\nA: fine") == SoapSections(subjective=None, objective="HR 70", assessment="fine")


@pytest.mark.parametrize("expected_type", ["consult", "history-and-physical", "nursing", "discharge"])
def test_samples_without_soap_structure_have_no_sections(expected_type: str) -> None:
    assert soap_sections(_sample(expected_type)) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Patient seen, doing well, no changes to medications.",
        "Plan: continue current treatment.",
        "Pt comfortable overnight.\nAssessment: stable.",
    ],
)
def test_fewer_than_two_headings_is_no_soap_structure(text: str) -> None:
    assert soap_sections(text) is None


def test_labels_that_look_like_headings_are_not_headings() -> None:
    text = "Pain: 4/10 in the left knee, worse on stairs.\nBP: 120/80\nSat: 98%\nPlan: ice and rest."

    assert soap_sections(text) is None


def test_a_vital_sign_label_stays_in_its_section() -> None:
    text = "S: headache\nO: BP: 150/95, Pulse: 80\nA: hypertension\nP: start amlodipine"

    sections = soap_sections(text)

    assert sections is not None
    assert sections.objective == "BP: 150/95, Pulse: 80"
    assert sections.plan == "start amlodipine"


def test_a_heading_out_of_order_is_text() -> None:
    text = "S: dizzy\nP: orthostatic vitals\nA: fine"

    assert soap_sections(text) == SoapSections(subjective="dizzy", plan="orthostatic vitals\nA: fine")


# --- Vital signs --------------------------------------------------------------------------


def test_vital_signs_of_the_admission_sample() -> None:
    found = vital_signs(_sample("admission"))

    assert found.vitals == Vitals(
        heart_rate=104, bp_systolic=138, bp_diastolic=84, respiratory_rate=24, spo2=89, temperature_c=38.6
    )
    assert found.skipped == []


def test_whole_number_signs_stay_integers() -> None:
    vitals = vital_signs(_sample("admission")).vitals

    for value in (vitals.heart_rate, vitals.bp_systolic, vitals.bp_diastolic, vitals.respiratory_rate, vitals.spo2):
        assert type(value) is int
    assert isinstance(vitals.temperature_c, float)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Temp 101.3 F", Vitals(temperature_c=38.5)),
        ("T 98.6 deg F", Vitals(temperature_c=37.0)),
        # Without a unit, a temperature of 80 or more is in Fahrenheit.
        ("T 99.5", Vitals(temperature_c=37.5)),
        ("T 37.4", Vitals(temperature_c=37.4)),
        ("Temperature 36.9C", Vitals(temperature_c=36.9)),
        ("weight 172 lb", Vitals(weight_kg=78.0)),
        ("Wt 165 lbs", Vitals(weight_kg=74.8)),
        ("weight 78.2 kg", Vitals(weight_kg=78.2)),
        ("height 170 cm", Vitals(height_cm=170)),
        ("Ht 66 in", Vitals(height_cm=167.6)),
        ("height 1.72 m", Vitals(height_cm=172.0)),
        ("pulse 72, resp 16, O2 sat 97%", Vitals(heart_rate=72, respiratory_rate=16, spo2=97)),
        ("Blood pressure 150/90, heart rate 96", Vitals(bp_systolic=150, bp_diastolic=90, heart_rate=96)),
        ("SpO2: 95%", Vitals(spo2=95)),
        ("RR 18", Vitals(respiratory_rate=18)),
    ],
)
def test_vital_signs_are_read_and_converted(text: str, expected: Vitals) -> None:
    found = vital_signs(text)

    assert found.vitals == expected
    assert found.skipped == []


def test_an_implausible_heart_rate_is_skipped_with_its_reason() -> None:
    found = vital_signs("HR 300, BP 120/80")

    assert found.vitals == Vitals(bp_systolic=120, bp_diastolic=80)
    assert found.skipped == [SkippedVital(name="heart_rate", value="300", reason="outside 20-250 /min")]


@pytest.mark.parametrize("pressure", ["80/90", "90/90"])
def test_a_systolic_not_above_the_diastolic_skips_both(pressure: str) -> None:
    found = vital_signs(f"BP {pressure}, HR 70")

    assert found.vitals == Vitals(heart_rate=70)
    assert found.skipped == [
        SkippedVital(name="bp_systolic", value=pressure, reason="systolic pressure not above diastolic"),
        SkippedVital(name="bp_diastolic", value=pressure, reason="systolic pressure not above diastolic"),
    ]


def test_an_implausible_temperature_is_skipped_with_its_reason() -> None:
    found = vital_signs("T 60 C")

    assert found.vitals == Vitals()
    assert found.skipped == [SkippedVital(name="temperature_c", value="60 C", reason="outside 30-45 Cel")]


def test_a_weight_without_unit_is_skipped() -> None:
    found = vital_signs("weight 78, HR 80")

    assert found.vitals == Vitals(heart_rate=80)
    assert found.skipped == [SkippedVital(name="weight_kg", value="78", reason="no unit (kg or lb)")]


def test_the_first_value_of_each_sign_is_taken() -> None:
    found = vital_signs("HR 96 at rest, HR 120 walking. BP 140/90 then BP 130/85. SpO2 91% on RA, 96% on 2 L.")

    assert found.vitals == Vitals(heart_rate=96, bp_systolic=140, bp_diastolic=90, spo2=91)


def test_skipped_signs_are_never_kept() -> None:
    found = vital_signs("HR 300, RR 2, SpO2 40%, T 60 C, BP 90/120, weight 900 kg, height 400 cm")

    assert found.vitals == Vitals()
    assert {skipped.name for skipped in found.skipped} == {
        "heart_rate",
        "respiratory_rate",
        "spo2",
        "temperature_c",
        "bp_systolic",
        "bp_diastolic",
        "weight_kg",
        "height_cm",
    }


def test_a_note_without_vital_signs_gives_none() -> None:
    found = vital_signs("Telephone encounter. Refill sent.")

    assert found.vitals == Vitals()
    assert found.skipped == []
