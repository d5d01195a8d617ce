"""Name pools for the synthetic screening corpus (:mod:`tests.support.screening_corpus`).

Written for this project, not taken from any list: the benchmark must run without network access, and real
listed names would add nothing the variations below do not. Each culture has given names, family names and,
where the lists carry them, the original script: Cyrillic names become the list's Latin spelling through a
BGN/PCGN-like table (``Сергей`` → ``Sergey``), while an applicant's form may come from another one
(``anyascii``: ``Sergei``), which is the transliteration difference screening meets in practice. Names within
one pool are distinct names, not spellings of one another (no "Mohammed" beside "Muhammad"), so a "different
given name" in a negative pair really is a different person.
"""

from __future__ import annotations

ARABIC_GIVEN = (
    "Ahmed Khalid Omar Yusuf Ibrahim Hassan Tariq Faisal Walid Samir Nabil Karim Jamal Adel Bilal Hamza Ismail "
    "Mustafa Nasser Rashid Saeed Salim Sami Tamer Ziad Majid Marwan Hisham Amr Fadi Ghassan Hatem Jalal Kamal "
    "Mansur Munir Nizar Qasim Raed Suhail Talal Wael Yasser Zaki Anas Bashir Hafiz Imad Issa Luay"
).split()
ARABIC_FAMILY = (
    "Haddad Khoury Mansour Nasrallah Saleh Hamdan Qureshi Zubaydi Tikriti Shammari Dulaimi Jabouri Obeidi "
    "Rawi Hashimi Masri Baghdadi Halabi Shami Yamani Kuwaiti Najjar Attar Sabbagh Khatib Bakri Sharif Tamimi "
    "Harbi Otaibi Ghamdi Qahtani Zahrani Shehri Anazi Mutairi Dosari Subaie Rashidi Juhani Amri Hadrami Awlaki "
    "Kubaisi Janabi Azzawi Samarrai Karbouli Fahdawi"
).split()
RUSSIAN_GIVEN = (
    "Сергей Алексей Дмитрий Андрей Михаил Николай Владимир Юрий Евгений Олег Виктор Игорь Павел Константин "
    "Григорий Аркадий Борис Вадим Геннадий Леонид Максим Роман Станислав Тимур Фёдор Ярослав Анатолий Валерий "
    "Вячеслав Кирилл Матвей Эдуард Ефим Семён Степан Тарас Богдан Остап Назар Zахар"
).replace("Zахар", "Захар").split()
RUSSIAN_FAMILY = (
    "Соколов Кузнецов Попов Лебедев Козлов Новиков Морозов Волков Соловьёв Васильев Зайцев Павлов Семёнов "
    "Голубев Виноградов Богданов Воробьёв Фёдоров Михайлов Беляев Тарасов Белов Комаров Орлов Киселёв Макаров "
    "Андреев Ковалёв Ильин Гусев Титов Кудрявцев Баранов Куликов Алексеев Степанов Яковлев Сорокин Сергеев "
    "Романов Захаров Борисов Королёв Герасимов Пономарёв Григорьев Лазарев Медведев Ершов Никитин Шевченко "
    "Бондаренко Коваленко Ткаченко Кравченко Олейник Мельник Поліщук Литвиненко Марченко"
).split()
#: Chinese names as (characters, pinyin); given names are two syllables.
CHINESE_FAMILY = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
    ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"),
    ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"), ("郑", "Zheng"),
    ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"), ("许", "Xu"), ("韩", "Han"), ("冯", "Feng"),
)
CHINESE_SYLLABLES = (
    ("伟", "Wei"), ("明", "Ming"), ("华", "Hua"), ("建", "Jian"), ("国", "Guo"), ("军", "Jun"), ("平", "Ping"),
    ("东", "Dong"), ("海", "Hai"), ("林", "Lin"), ("强", "Qiang"), ("峰", "Feng"), ("志", "Zhi"), ("文", "Wen"),
    ("德", "De"), ("龙", "Long"), ("春", "Chun"), ("光", "Guang"), ("永", "Yong"), ("清", "Qing"), ("洪", "Hong"),
    ("新", "Xin"), ("庆", "Qing"), ("涛", "Tao"), ("辉", "Hui"), ("鹏", "Peng"), ("斌", "Bin"), ("宇", "Yu"),
)
#: Korean names as (Hangul, the usual Latin spelling of lists).
KOREAN_FAMILY = (
    ("김", "Kim"), ("이", "Ri"), ("박", "Pak"), ("최", "Choe"), ("정", "Jong"), ("강", "Kang"), ("조", "Jo"),
    ("윤", "Yun"), ("장", "Jang"), ("임", "Rim"), ("한", "Han"), ("오", "O"), ("서", "So"), ("신", "Sin"),
)
KOREAN_SYLLABLES = (
    ("철", "Chol"), ("남", "Nam"), ("영", "Yong"), ("호", "Ho"), ("수", "Su"), ("일", "Il"), ("성", "Song"),
    ("민", "Min"), ("광", "Kwang"), ("혁", "Hyok"), ("준", "Jun"), ("학", "Hak"), ("명", "Myong"), ("국", "Guk"),
    ("용", "Yong"), ("진", "Jin"), ("훈", "Hun"), ("석", "Sok"),
)
PERSIAN_GIVEN = (
    "Reza Hossein Mehdi Abbas Mahmoud Javad Hamid Saeid Majid Behrouz Farhad Kourosh Dariush Babak Ramin "
    "Shahram Bijan Parviz Nader Ardeshir Siamak Kaveh Arash Payam Omid Navid Pouya Sina Kianoush Houshang "
    "Manouchehr Masoud Morteza Mojtaba Gholam Esmail Alireza Hadi Yahya Ruhollah"
).split()
PERSIAN_FAMILY = (
    "Rezaei Mohammadi Hosseini Ahmadi Karimi Moradi Jafari Rahimi Hashemi Sadeghi Ghasemi Mousavi Tehrani "
    "Shirazi Esfahani Tabrizi Kermani Yazdi Rostami Ebrahimi Soleimani Najafi Bagheri Ansari Shariati Zarif "
    "Larijani Rafsanjani Khorasani Golpayegani Nikpour Farahani Dehghan Kazemi Asadi Safavi Amini Vahidi Bahrami"
).split()
HISPANIC_GIVEN = (
    "José Luis Carlos Jesús Manuel Rafael Andrés Sebastián Joaquín Ramón Iván Óscar Héctor Rubén Adrián Fabián "
    "Martín Nicolás Tomás Julián Álvaro Gonzalo Ignacio Rodrigo Emilio Esteban Mauricio Patricio Gustavo "
    "Fernando Alejandro Ricardo Arturo Ernesto Leonel Wilmer Yeison Darío Elías Efraín"
).split()
HISPANIC_FAMILY = (
    "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores Rivera Gómez Díaz "
    "Cruz Morales Ortiz Gutiérrez Chávez Ramos Ruiz Álvarez Mendoza Castillo Jiménez Vásquez Moreno Herrera "
    "Medina Aguilar Vargas Guzmán Muñoz Rojas Salazar Peña Núñez Cabello Maduro Carvalho Gonçalves Araújo "
    "Conceição Magalhães Assunção Leão Brandão Simões"
).split()
WEST_AFRICAN_GIVEN = (
    "Abubakar Ibrahim Musa Aliyu Umaru Sani Bello Kabiru Lawal Garba Yakubu Adamu Chukwuemeka Obinna Chinedu "
    "Oluwaseun Babatunde Olumide Adebayo Kwame Kofi Kwaku Yaw Kojo Mamadou Moussa Ousmane Amadou Boubacar "
    "Seydou Cheikh Modou Lamine Souleymane Abdoulaye Alassane Tidiane Idrissa Bakary Sekou"
).split()
WEST_AFRICAN_FAMILY = (
    "Okonkwo Adeyemi Okafor Eze Nwosu Obi Balogun Ogunleye Adebayo Danjuma Shekau Yusuf Abdullahi Mohammed "
    "Mensah Asante Owusu Boateng Appiah Osei Diallo Traoré Keïta Coulibaly Touré Koné Camara Sow Barry Bah "
    "Cissé Sylla Konaté Ndiaye Diop Fall Sarr Faye Gueye Mbaye Sesay Kamara Bangura Conteh"
).split()
ENGLISH_GIVEN = (
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony "
    "Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan "
    "Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Frank Raymond"
).split()
ENGLISH_FAMILY = (
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin Lee "
    "Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker "
    "Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Murphy "
    "Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett"
).split()
ORGANISATION_WORDS = (
    "Trading Shipping Petroleum Holding Industrial Maritime General Import Export Logistics Engineering "
    "Investment Commercial Development Construction Energy Metals Chemical Aviation Technology Finance Bank "
    "Exchange Transport Mining Textile Agricultural Electronics Marine Global"
).split()
ORGANISATION_FORMS = ("Company", "LLC", "Ltd", "Group", "Corporation", "JSC", "Establishment", "Co.")

#: BGN/PCGN-like romanisation of Russian and Ukrainian Cyrillic, the lists' usual spelling.
CYRILLIC_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
}


def romanise(cyrillic: str) -> str:
    """The list's Latin spelling of a Cyrillic name."""
    out = []
    for word in cyrillic.split():
        latin = "".join(CYRILLIC_LATIN.get(char.lower(), char) for char in word)
        out.append(latin[:1].upper() + latin[1:])
    return " ".join(out)
